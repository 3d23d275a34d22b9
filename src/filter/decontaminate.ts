/**
 * Evaluation-set overlap by word n-grams (as GPT-3's and the Llama reports' decontamination): a
 * training problem is contaminated when it shares any n-gram with an evaluation problem, or, when
 * either is shorter than n words, when the shorter one's whole word sequence appears in the other.
 */
export class ContaminationIndex {
  private readonly ngrams = new Set<string>()
  private readonly shortTexts: string[] = []

  constructor(readonly n = 13) {}

  add(evaluationProblem: string): void {
    const words = normalizedWords(evaluationProblem)
    if (words.length < this.n) {
      if (words.length > 0) this.shortTexts.push(` ${words.join(' ')} `)
      return
    }
    for (let i = 0; i + this.n <= words.length; i++) this.ngrams.add(words.slice(i, i + this.n).join(' '))
  }

  get size(): number {
    return this.ngrams.size + this.shortTexts.length
  }

  contains(trainingProblem: string): boolean {
    const words = normalizedWords(trainingProblem)
    const joined = ` ${words.join(' ')} `
    if (this.shortTexts.some((text) => joined.includes(text))) return true
    if (words.length < this.n) {
      // A short training problem inside a longer evaluation problem.
      return words.length > 0 && [...this.ngrams].some((gram) => ` ${gram} `.includes(joined))
    }
    for (let i = 0; i + this.n <= words.length; i++) {
      if (this.ngrams.has(words.slice(i, i + this.n).join(' '))) return true
    }
    return false
  }
}

function normalizedWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? []
}
