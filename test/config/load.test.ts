import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, loadConfigText } from '../../src/config/load.ts';
import { configError } from './helpers.ts';

const YAML_CONFIG = `
version: v1
admin:
  loglevel: all:DEBUG
  metrics_endpoint: http://:\${METRICS_PORT}/metrics
auth:
  type: plaintext
  credentials:
    username: user1
    password: pa$sword
listeners:
  - name: udp-listener
    protocol: udp
    address: $STUNNER_ADDR
    port: \${PORT}
    routes: [media-plane]
clusters:
  - name: media-plane
    endpoints: [10.0.0.0/8]
`;

const JSON_CONFIG = JSON.stringify({
  version: 'v1',
  auth: { type: 'ephemeral', credentials: { secret: 's3cr3t' } },
  listeners: [{ name: 'tcp', protocol: 'TURN-TCP', port: 3479, routes: ['any'] }],
  clusters: [{ name: 'any', endpoints: ['0.0.0.0/0'] }],
});

const ENV = { STUNNER_ADDR: '10.1.1.1', PORT: '3480', METRICS_PORT: '9090' };

describe('loadConfigText', () => {
  it('loads YAML, expanding the environment except in credentials', () => {
    const { config, warnings, source } = loadConfigText(YAML_CONFIG, { env: ENV });
    assert.equal(source, 'stunnerd');
    assert.deepEqual(warnings, []);
    assert.equal(config.admin.metrics_endpoint, 'http://:9090/metrics');
    assert.deepEqual(config.auth, { type: 'static', realm: 'stunner.l7mp.io', credentials: { username: 'user1', password: 'pa$sword' } });
    assert.deepEqual([config.listeners[0].protocol, config.listeners[0].address, config.listeners[0].port], ['TURN-UDP', '10.1.1.1', 3480]);
  });

  it('an unset variable expands to "" and so falls back to the default', () => {
    const { config } = loadConfigText(YAML_CONFIG, { env: { METRICS_PORT: '9090' } });
    assert.deepEqual([config.listeners[0].address, config.listeners[0].port], ['0.0.0.0', 3478]);
  });

  it('loads JSON', () => {
    const { config, source } = loadConfigText(JSON_CONFIG, { env: {} });
    assert.equal(source, 'stunnerd');
    assert.deepEqual(config.auth.credentials, { secret: 's3cr3t' });
    assert.equal(config.listeners[0].port, 3479);
  });

  it('the same config as YAML and as JSON loads to the same result', () => {
    const yaml = 'version: v1\nauth:\n  credentials: {username: u, password: p}\nlisteners:\n- {name: l, port: 3478}\n';
    const json = '{"version":"v1","auth":{"credentials":{"username":"u","password":"p"}},"listeners":[{"name":"l","port":3478}]}';
    assert.deepEqual(loadConfigText(yaml, { env: {} }).config, loadConfigText(json, { env: {} }).config);
  });

  it('empty YAML documents around the config do not count', () => {
    const { config } = loadConfigText(`---\n---\n${YAML_CONFIG}---\n`, { env: ENV });
    assert.equal(config.listeners[0].port, 3480);
  });

  it('loads the stunnerd config out of a dump of the operator ConfigMap', () => {
    const dump = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stunnerd-config, namespace: stunner}\ndata:\n  stunnerd.conf: '${JSON_CONFIG}'\n`;
    const { config, source } = loadConfigText(dump, { env: {} });
    assert.equal(source, 'stunnerd');
    assert.equal(config.listeners[0].name, 'tcp');
  });

  const bad: Array<[string, string, string, string]> = [
    ['YAML syntax', 'version: v1\nlisteners: [\n', 'ERR_CONFIG_PARSE', 'invalid YAML at line 3, column 1: '],
    ['duplicate YAML key', 'version: v1\nversion: v1\n', 'ERR_CONFIG_PARSE', 'invalid YAML at line 2, column 1: Map keys must be unique'],
    ['JSON syntax', '{"version": "v1",}', 'ERR_CONFIG_PARSE', 'invalid JSON: '],
    ['empty file', '# nothing\n', 'ERR_CONFIG_INVALID', 'empty config'],
    ['two stunnerd documents', 'version: v1\n---\nversion: v1\n', 'ERR_CONFIG_INVALID', 'a stunnerd config is a single document, got 2'],
    ['a rule', 'version: v1\nauth: {credentials: {username: u, password: p}}\nlisteners: [{name: a, port: 70000}]\n',
      'ERR_CONFIG_INVALID', 'listeners[0].port: must be 1..65535, got 70000'],
  ];
  for (const [name, text, code, message] of bad) {
    it(`rejects: ${name}`, () => {
      const err = configError(() => loadConfigText(text, { env: {} }));
      assert.equal(err.code, code);
      assert.ok(err.message.startsWith(message), err.message);
    });
  }
});

describe('loadConfigFile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stunner-config-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a YAML file', async () => {
    const file = join(dir, 'stunnerd.yaml');
    await writeFile(file, YAML_CONFIG);
    const { config, source } = await loadConfigFile(file, ENV);
    assert.equal(source, 'stunnerd');
    assert.equal(config.listeners[0].address, '10.1.1.1');
  });

  it('reads a JSON file', async () => {
    const file = join(dir, 'stunnerd.conf');
    await writeFile(file, JSON_CONFIG);
    assert.equal((await loadConfigFile(file, {})).config.auth.type, 'ephemeral');
  });

  it('names the file in validation errors', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'version: v1\nauth: {credentials: {username: u, password: p}}\nlisteners: [{name: a}, {name: b, port: 70000}]\n');
    await assert.rejects(loadConfigFile(file, {}), {
      name: 'ConfigError', code: 'ERR_CONFIG_INVALID', file, path: 'listeners[1].port',
      message: `${file}: listeners[1].port: must be 1..65535, got 70000`,
    });
  });

  it('names the file in parse errors', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'version: [v1\n');
    await assert.rejects(loadConfigFile(file, {}), (e: Error & { code?: string }) =>
      e.code === 'ERR_CONFIG_PARSE' && e.message.startsWith(`${file}: invalid YAML at line`));
  });

  it('reports a missing file as ERR_CONFIG_READ', async () => {
    const file = join(dir, 'missing.yaml');
    await assert.rejects(loadConfigFile(file, {}), (e: Error & { code?: string; file?: string }) =>
      e.code === 'ERR_CONFIG_READ' && e.file === file && e.message.startsWith(`${file}: cannot read: ENOENT`));
  });
});
