import { parseArgs } from 'node:util';
import { startAgent } from './agent.ts';
import { describeDrivers } from './ami/driver.ts';
import { formatCheckLine, runCheck } from './check.ts';
import { ConfigError, loadConfig } from './config.ts';
import { jsonLog } from './log.ts';
import { describeRuntime } from './runtime.ts';
import { AGENT_VERSION } from './version.ts';

const HELP = `coocenter-agent: the coocenter agent on an Asterisk PBX

Usage:
  coocenter-agent --config /etc/coocenter/api.conf
  coocenter-agent --check --config /etc/coocenter/api.conf

Options:
  --config PATH   api.conf to read (default ./api.conf)
  --check         check api.conf, the AMI login and the edge, then exit
  --version       the agent's version and the Node it runs on
  --help          this text

Prints "agent ready" and where the LAN API listens once AMI is logged in.
Logs are JSON lines on stderr. Exit codes: 0 ok, 1 runtime failure, 2 broken api.conf.
--check prints one line per check, "ok" or "FIX" with what to do; exit 0 when all are ok, 1 otherwise.`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string', default: 'api.conf' }, check: { type: 'boolean', default: false }, help: { type: 'boolean', default: false }, version: { type: 'boolean', default: false } },
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (args.values.version) {
    process.stdout.write(`coocenter-agent ${AGENT_VERSION} ${describeRuntime()}\n`);
    return 0;
  }
  if (args.values.check) {
    const ok = await runCheck({ configPath: args.values.config, report: (l) => process.stdout.write(`${formatCheckLine(l)}\n`) });
    return ok ? 0 : 1;
  }
  let config;
  try {
    config = await loadConfig(args.values.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = jsonLog({ component: 'agent' });
  log({ msg: 'agent starting', version: AGENT_VERSION, runtime: describeRuntime() });
  for (const w of config.warnings) log({ level: 'warn', msg: w });
  const agent = await startAgent({ config, log }).catch((e: Error) => {
    process.stderr.write(`agent failed to start: ${e.message}\n`);
    return null;
  });
  if (!agent) return 1;
  const events = config.tunnel ? `events up the tunnel to ${config.tunnel.edge}` : config.general.url ? `events to ${config.general.url}` : 'no URL set: events are kept on disk';
  process.stdout.write(`agent ready: AMI ${config.ami.host}:${config.ami.port} (${describeDrivers(agent.drivers)}), LAN API on ${agent.lanUrl}, ${events}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await agent.close();
  return 0;
}

process.exitCode = await main();
