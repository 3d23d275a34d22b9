import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/core/errors.js'
import { ensureTrainingEnv, lockInstall, venvProblem } from '../../src/training/python-env.js'
import { tempDir } from '../integration/cli.js'

describe('the virtualenv path: start removes only a virtualenv it made', () => {
  it('refuses a project directory given by mistake, and leaves every file of it in place', async () => {
    const project = join(tempDir(), 'project')
    mkdirSync(join(project, 'src'), { recursive: true })
    writeFileSync(join(project, 'src', 'main.py'), 'print("mine")\n')
    const refused = ensureTrainingEnv({ venv: project })
    await expect(refused).rejects.toThrow(UsageError)
    await expect(refused).rejects.toThrow(`--venv ${project}: is a directory start did not make (1 entries)`)
    expect(readFileSync(join(project, 'src', 'main.py'), 'utf8')).toBe('print("mine")\n')
  })

  it('refuses a regular file and a link, and keeps them', async () => {
    const dir = tempDir()
    const file = join(dir, 'notes.txt')
    writeFileSync(file, 'keep me')
    await expect(ensureTrainingEnv({ venv: file })).rejects.toThrow(
      `--venv ${file}: exists and is not a directory`,
    )
    expect(readFileSync(file, 'utf8')).toBe('keep me')
    const link = join(dir, 'link')
    mkdirSync(join(dir, 'target'))
    symlinkSync(join(dir, 'target'), link)
    expect(venvProblem(link, true)).toMatch(/exists and is not a directory/)
    expect(existsSync(join(dir, 'target'))).toBe(true)
  })

  it("takes a new path, an empty directory, start's own directory, and its default place", () => {
    const dir = tempDir()
    expect(venvProblem(join(dir, 'new'), true)).toBeUndefined()
    mkdirSync(join(dir, 'empty'))
    expect(venvProblem(join(dir, 'empty'), true)).toBeUndefined()
    for (const marker of ['.start-venv', '.start-ready']) {
      mkdirSync(join(dir, marker), { recursive: true })
      writeFileSync(join(dir, marker, marker), '')
      writeFileSync(join(dir, marker, 'pyvenv.cfg'), '')
      expect(venvProblem(join(dir, marker), true)).toBeUndefined()
    }
    // a half-made install at start's own default place (not a path the user gave) is start's to redo
    mkdirSync(join(dir, 'venv-0123456789', 'bin'), { recursive: true })
    expect(venvProblem(join(dir, 'venv-0123456789'), false)).toBeUndefined()
    expect(venvProblem(join(dir, 'venv-0123456789'), true)).toMatch(/start did not make/)
  })
})

describe('the install lock', () => {
  it('is taken over at once when its holder is gone (a killed install), and says nothing', async () => {
    const lock = join(tempDir(), 'venv.lock')
    const gone = await execa('sh', ['-c', 'echo $$'])
    mkdirSync(lock)
    writeFileSync(join(lock, 'pid'), gone.stdout.trim())
    const said: string[] = []
    const started = Date.now()
    const release = await lockInstall(lock, (line) => said.push(line), 60_000)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid))
    expect(said).toEqual([])
    await release()
    expect(existsSync(lock)).toBe(false)
  })

  it('waits for a live holder, says so once, and gives up with a clear line naming it', async () => {
    const lock = join(tempDir(), 'venv.lock')
    mkdirSync(lock)
    writeFileSync(join(lock, 'pid'), String(process.pid))
    const said: string[] = []
    await expect(lockInstall(lock, (line) => said.push(line), 2_500)).rejects.toThrow(
      `${lock}: another install (pid ${process.pid}) holds the lock`,
    )
    expect(said).toEqual([`waiting for another install (pid ${process.pid}) to finish (${lock})`])
  })
})
