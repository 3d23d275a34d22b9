import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Runs the longest files first, so that two workers finish together instead of one waiting on a long file
 * that started last: the known longest file, then by tier (integration, trainer, model, browser, sandbox,
 * unit), and within a tier in vitest's own order (durations of an earlier run where it has them, else size).
 */
const TIER_ORDER = ['integration', 'trainer', 'model', 'browser', 'sandbox', 'unit']
/** The one file that alone takes a quarter of the suite: started first, or it ends last. */
const LONGEST = 'test/integration/pipeline-cli.test.ts'

export class HeaviestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cached = await super.sort(files)
    const rank = (spec: TestSpecification) =>
      spec.moduleId.endsWith(LONGEST) ? -1 : TIER_ORDER.indexOf(spec.project.name)
    return cached
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.index - b.index)
      .map(({ spec }) => spec)
  }
}
