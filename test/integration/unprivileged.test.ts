import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI } from './cli.js'

// Most users run start as an ordinary user: bubblewrap then isolates with a user namespace and
// cells keep the user's uid. CI runs as root, so this drops to `nobody` to prove that path too.
const canDrop = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv') && existsSync('/usr/bin/python3')

describe.runIf(canDrop)('start sandbox as an unprivileged user', () => {
  it('keeps the network, /etc/shadow and everything but scratch out of reach', async () => {
    const code = `
import os, socket
print("uid", os.getuid())
for path in ["/evil", "/etc/evil", "/usr/evil", "/opt/start/evil"]:
    try:
        open(path, "w").write("x")
        print("wrote", path)
    except OSError:
        print("denied")
try:
    open("/etc/shadow").read()
    print("read /etc/shadow")
except OSError:
    print("denied")
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2)
    print("connected")
except OSError:
    print("blocked")
open("ok", "w").write("scratch ok")
print(open("/tmp/ok").read())
`
    const result = await execa(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'env',
        'HOME=/tmp',
        'node',
        CLI,
        'sandbox',
        'exec',
        '--python',
        '/usr/bin/python3',
      ],
      { input: code, reject: false },
    )
    expect(result.exitCode).toBe(0)
    const output = JSON.parse(String(result.stdout)).stdout
    expect(output).toBe('uid 65534\ndenied\ndenied\ndenied\ndenied\ndenied\nblocked\nscratch ok\n')
  })
})
