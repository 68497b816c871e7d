import { createGateway, type GatewayDeps } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { fakeRoutes } from './fake/routes';
import { FakeWhatsApp } from './fake/whatsapp';
import { createLogger, type Logger } from './logger';
import { BaileysSocketFactory } from './sessions/baileys';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger('info').fatal({ problems: error.problems }, 'gateway.invalid_config');
      process.exit(1);
    }
    throw error;
  }
}

/** Baileys, or in the test-only fake mode the in-process fake WhatsApp server and its control route. */
function socketDeps(config: Config, logger: Logger): GatewayDeps {
  if (config.fakeWhatsApp !== null) {
    logger.warn({ ...config.fakeWhatsApp, hint: 'test-only: no real WhatsApp connection' }, 'gateway.fake_whatsapp');
    const fake = new FakeWhatsApp(config.fakeWhatsApp, logger.child({ component: 'fake_whatsapp' }));
    return { factory: fake, logger, extraRoutes: fakeRoutes(fake) };
  }
  const factory = new BaileysSocketFactory({
    logger,
    baileysLogLevel: config.baileysLogLevel,
    markOnlineOnConnect: config.markOnlineOnConnect,
    waVersion: config.waVersion,
  });
  return { factory, logger };
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  if (config.env === 'development' && process.env['GATEWAY_SHARED_SECRET'] === undefined) {
    logger.warn({ hint: 'GATEWAY_SHARED_SECRET is unset; using the development secret' }, 'gateway.development_secret');
  }
  const gateway = createGateway(config, socketDeps(config, logger));
  await gateway.start();

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway.stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'gateway.stop_failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  createLogger('info').fatal({ err: error }, 'gateway.crashed');
  process.exit(1);
});
