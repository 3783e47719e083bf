// `stunnerd render`: loads a stunnerd config or Kubernetes resources and prints the stunnerd config that
// would run, secrets redacted unless asked for, so operators can see what a GatewayConfig becomes.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { loadConfigFile } from '../config/load.ts';
import { printConfig } from '../config/print.ts';
import { formatProblem } from '../config/errors.ts';

const HELP = `Usage: stunnerd render -c FILE [--output yaml|json] [--show-secrets]

Prints the stunnerd config FILE renders to (Kubernetes resources or a stunnerd config), validated and
with defaults filled in. Credentials, certificates and keys are shown as <redacted> unless --show-secrets.`;

export async function renderCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        output: { type: 'string', short: 'o' },
        'show-secrets': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`stunnerd render: ${(err as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const format = values.output ?? 'yaml';
  if (values.config === undefined || (format !== 'yaml' && format !== 'json')) {
    process.stderr.write(`stunnerd render: ${values.config === undefined ? '-c FILE is required'
      : `--output: want yaml or json, got "${format}"`}\n${HELP}\n`);
    return 2;
  }
  try {
    const { config, warnings } = await loadConfigFile(values.config);
    for (const w of warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
    if (values['show-secrets']) {
      process.stdout.write(format === 'json' ? `${JSON.stringify(config, null, 2)}\n` : stringify(config));
    } else {
      process.stdout.write(printConfig(config, format));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`stunnerd render: ${(err as Error).message}\n`);
    return 1;
  }
}
