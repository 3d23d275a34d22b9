import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { isLoopback, refusal } from '../../src/sandbox-service/http.js'
import { runRequest } from '../../src/sandbox-service/service.js'

const request = (headers: Record<string, string>, method = 'POST') =>
  ({ method, headers }) as unknown as IncomingMessage
const JSON_TYPE = { 'content-type': 'application/json' }

describe('the HTTP guard of start sandbox serve', () => {
  it('knows loopback addresses and names from the rest', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect(isLoopback(host), host).toBe(true)
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.2',
      'example.com',
      '127.0.0.1.evil.example',
      'localhost.evil',
    ]) {
      expect(isLoopback(host), host).toBe(false)
    }
  })

  it("takes a client's request and refuses a web page's, a rebound name's, a wrong token's and a form's", () => {
    const loopback = { loopbackOnly: true }
    expect(refusal(request({ host: '127.0.0.1:8080', ...JSON_TYPE }), loopback)).toBeUndefined()
    expect(refusal(request({ host: '[::1]:8080', ...JSON_TYPE }), loopback)).toBeUndefined()
    expect(refusal(request({ host: 'localhost:8080' }, 'GET'), loopback)).toBeUndefined()
    expect(refusal(request({ host: 'evil.example:8080', ...JSON_TYPE }), loopback)?.status).toBe(403)
    expect(refusal(request({ ...JSON_TYPE }), loopback)?.status).toBe(403)
    expect(
      refusal(request({ host: 'localhost', origin: 'http://localhost:3000', ...JSON_TYPE }), loopback),
    ).toEqual({
      status: 403,
      message: 'requests from web pages are refused',
    })
    expect(
      refusal(request({ host: 'localhost', 'sec-fetch-site': 'same-site' }, 'GET'), loopback)?.status,
    ).toBe(403)
    expect(refusal(request({ host: 'localhost', 'sec-fetch-site': 'none' }, 'GET'), loopback)).toBeUndefined()
    expect(refusal(request({ host: 'localhost', 'content-type': 'text/plain' }), loopback)?.status).toBe(415)
    expect(
      refusal(request({ host: 'localhost', 'content-type': 'Application/JSON; charset=utf-8' }), loopback),
    ).toBeUndefined()
    // beyond loopback, with a token: any Host, but the token
    const network = { loopbackOnly: false, token: 't' }
    expect(
      refusal(request({ host: 'box.lan:8080', ...JSON_TYPE, authorization: 'Bearer t' }), network),
    ).toBeUndefined()
    expect(
      refusal(request({ host: 'box.lan:8080', ...JSON_TYPE, authorization: 'Bearer x' }), network)?.status,
    ).toBe(401)
  })

  it('takes a time limit only as a positive finite number, in the protocol unit', () => {
    expect(runRequest({ code: 'x', run_timeout: 2.5 }, 'run_timeout', 1000).timeoutMs).toBe(2500)
    expect(runRequest({ code: 'x', timeout: 3e9 }, 'timeout', 1).timeoutMs).toBe(3e9) // the service clamps it
    expect(runRequest({ code: 'x', run_timeout: null }, 'run_timeout', 1000).timeoutMs).toBeUndefined()
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN, '5']) {
      expect(() => runRequest({ code: 'x', run_timeout: bad }, 'run_timeout', 1000)).toThrow(
        '"run_timeout" must be a positive number',
      )
    }
  })
})
