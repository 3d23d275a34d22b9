import { normalizeAnswer } from './normalize-answer.js'

/**
 * Does the answer ignore what its problem asks of its form? The grader never saw the problem before, so
 * copying the problem's own expression (`\sqrt{242}` for "Simplify $\sqrt{242}$", `99^2+99+1` for
 * "Compute $99^2+99+1$") was paid. With the problem, an answer is wrong (`form`) when it is one of the
 * problem's expressions unevaluated (and the reference is not that expression), or when the problem
 * demands a form it does not have: a decimal, a common or simplest fraction, simplest radical form, a
 * rationalised denominator, an answer in terms of pi. Pure; no peer grader does this.
 */
export function ignoresForm(predicted: string, reference: string, problem: string): boolean {
  const answer = normalizeAnswer(predicted)
  if (copiesProblem(answer, normalizeAnswer(reference), problem)) return true
  return FORMS.some(
    ({ asks, violates }) => asks.test(problem) && violates(answer) && !violates(normalizeAnswer(reference)),
  )
}

/** The problem's math (`$...$`, `\(...\)`, `\[...\]`), each expression normalised as an answer is. */
function problemExpressions(problem: string): Set<string> {
  const spans = problem.match(/\$\$[^$]+\$\$|\$[^$]+\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g) ?? []
  return new Set(spans.map(normalizeAnswer))
}

/** An expression with something left to evaluate: an operation, a root, a fraction, a power. */
const UNEVALUATED = /[-+*/^!]|\\(?:sqrt|frac|cdot|times|div|binom|sum|prod|log|ln|sin|cos|tan)\b/

function copiesProblem(answer: string, reference: string, problem: string): boolean {
  if (answer === reference || !UNEVALUATED.test(answer.replace(/^-/, ''))) return false
  return problemExpressions(problem).has(answer)
}

const FRACTION = /\\frac\{(-?\d+)\}\{(\d+)\}|(?<![\d.])(\d+)\/(\d+)(?![\d.])/g

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b)
}

/** A root of an integer with a square factor: `\sqrt{12}` is `2\sqrt{3}`. */
function unsimplifiedRoot(answer: string): boolean {
  return [...answer.matchAll(/\\sqrt\{(\d+)\}/g)].some((match) => {
    const n = Number(match[1])
    for (let k = 2; k * k <= n; k++) if (n % (k * k) === 0) return true
    return false
  })
}

/** A root in a denominator: `\frac{1}{\sqrt{2}}`, `1/\sqrt{2}`. */
function rootInDenominator(answer: string): boolean {
  return (
    /\\frac\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}\{[^{}]*\\sqrt/.test(answer) || /\/\s*\(?[^,)]*\\sqrt/.test(answer)
  )
}

const decimal = (answer: string) => /\d\.\d/.test(answer)

/** The forms a problem may demand, each with what breaks it. */
const FORMS: { asks: RegExp; violates: (answer: string) => boolean }[] = [
  {
    // "Express your answer as a decimal", "to the nearest hundredth"
    asks: /\b(?:as|in)\s+(?:a\s+)?decimal\b|\bdecimal\s+form\b|\bto\s+the\s+nearest\s+(?:tenth|hundredth|thousandth)/i,
    violates: (answer) => /\\frac|\/|\\sqrt|\\pi/.test(answer),
  },
  {
    // "Express your answer as a common fraction", "in simplest form", "in lowest terms"
    asks: /\bcommon\s+fraction|\bfraction\s+in\s+(?:simplest|lowest)\s+(?:form|terms)|\b(?:simplest|reduced|irreducible)\s+fraction/i,
    violates: (answer) =>
      decimal(answer) ||
      /\d\\frac/.test(answer) ||
      [...answer.matchAll(FRACTION)].some((match) => {
        const [numerator, denominator] = [match[1] ?? match[3]!, match[2] ?? match[4]!].map(BigInt)
        return gcd(numerator!, denominator!) !== 1n
      }),
  },
  {
    asks: /\bsimplest\s+radical\s+form/i,
    violates: (answer) => unsimplifiedRoot(answer) || rootInDenominator(answer) || decimal(answer),
  },
  {
    asks: /\brationali[sz]e\s+the\s+denominator/i,
    violates: (answer) => rootInDenominator(answer) || decimal(answer),
  },
  {
    asks: /\bin\s+terms\s+of\s+(?:\$\s*)?\\?pi\b/i,
    violates: (answer) => !/\\pi/.test(answer) && decimal(answer),
  },
]
