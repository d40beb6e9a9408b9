/**
 * The one configuration of carprice's AWS deployment. Every resource name is derived from
 * `name` here, and every value the CI workflow needs is a stack output, so nothing has to
 * "match exactly" by hand (the original created bucket, ECR repository, auto scaling group,
 * CodeDeploy application and group in the console, and broke when one name differed).
 *
 * Values come from CDK context (`cdk.json` or `npx cdk synth -c key=value`); each is
 * validated here, and a bad value names the key and the fix.
 */

/** Deployment settings, all optional in context; defaults shown in DEFAULT_INFRA_CONFIG. */
export interface InfraConfig {
  /** Prefix of every resource name (lowercase letters, digits, hyphens; 3-20 characters). */
  readonly name: string;
  /** Instances of the serving fleet (the auto scaling group). */
  readonly minInstances: number;
  readonly maxInstances: number;
  /** EC2 instance type of the serving fleet. */
  readonly instanceType: string;
  /** Port the container listens on (carprice serve --port); the ALB and instances use 80. */
  readonly containerPort: number;
  /** Minutes the old (blue) fleet is kept after a successful deployment, for a fast rollback. */
  readonly blueTerminationWaitMinutes: number;
  /** Alarm thresholds that roll a deployment back by themselves. */
  readonly alarm5xxPercent: number;
  readonly alarmP99Ms: number;
  /** GitHub repository allowed to assume the CI role by OIDC ("owner/name"); empty: no CI role. */
  readonly githubRepository: string;
  /** Run `carprice tracking serve` on its own instance (artifacts on the bucket). */
  readonly trackingServer: boolean;
}

export const DEFAULT_INFRA_CONFIG: InfraConfig = Object.freeze({
  name: 'carprice',
  minInstances: 2,
  maxInstances: 4,
  instanceType: 't3.small',
  containerPort: 8000,
  blueTerminationWaitMinutes: 15,
  alarm5xxPercent: 2,
  alarmP99Ms: 250,
  githubRepository: '',
  trackingServer: false,
});

/** A configuration value that cannot be used, with the key and what to do. */
export class InfraConfigError extends Error {
  constructor(key: string, value: unknown, expected: string) {
    super(
      `infra config ${key}=${JSON.stringify(value)}: ${expected} (set it in infra/cdk.json "context" or with -c ${key}=...)`,
    );
    this.name = 'InfraConfigError';
  }
}

type Context = (key: string) => unknown;

function int(get: Context, key: keyof InfraConfig, min: number, max: number): number {
  const raw = get(key);
  if (raw === undefined) return DEFAULT_INFRA_CONFIG[key] as number;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InfraConfigError(key, raw, `expected a whole number from ${min} to ${max}`);
  }
  return n;
}

function bool(get: Context, key: keyof InfraConfig): boolean {
  const raw = get(key);
  if (raw === undefined) return DEFAULT_INFRA_CONFIG[key] as boolean;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new InfraConfigError(key, raw, 'expected true or false');
}

function str(get: Context, key: keyof InfraConfig, pattern: RegExp, expected: string): string {
  const raw = get(key);
  if (raw === undefined) return DEFAULT_INFRA_CONFIG[key] as string;
  if (typeof raw !== 'string' || !pattern.test(raw)) throw new InfraConfigError(key, raw, expected);
  return raw;
}

/** Reads and validates the configuration from a context lookup (CDK's node.tryGetContext). */
export function readInfraConfig(get: Context): InfraConfig {
  const config: InfraConfig = {
    name: str(
      get,
      'name',
      /^[a-z][a-z0-9-]{2,19}$/,
      'expected 3-20 lowercase letters, digits or hyphens, starting with a letter',
    ),
    minInstances: int(get, 'minInstances', 1, 20),
    maxInstances: int(get, 'maxInstances', 1, 50),
    instanceType: str(
      get,
      'instanceType',
      /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/,
      'expected an EC2 instance type such as t3.small',
    ),
    containerPort: int(get, 'containerPort', 1024, 65535),
    blueTerminationWaitMinutes: int(get, 'blueTerminationWaitMinutes', 0, 2880),
    alarm5xxPercent: int(get, 'alarm5xxPercent', 1, 100),
    alarmP99Ms: int(get, 'alarmP99Ms', 1, 60000),
    githubRepository: str(
      get,
      'githubRepository',
      /^$|^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/,
      'expected "owner/name" or empty',
    ),
    trackingServer: bool(get, 'trackingServer'),
  };
  if (config.maxInstances < config.minInstances) {
    throw new InfraConfigError(
      'maxInstances',
      config.maxInstances,
      `expected at least minInstances (${config.minInstances})`,
    );
  }
  return Object.freeze(config);
}

/** Every physical name, derived from config.name in one place. */
export function resourceNames(config: InfraConfig) {
  const n = config.name;
  return {
    ecrRepository: n,
    codeDeployApplication: n,
    deploymentGroup: `${n}-bluegreen`,
    targetGroup: `${n}-tg`,
    loadBalancer: `${n}-alb`,
    alarm5xx: `${n}-5xx-rate`,
    alarmP99: `${n}-p99-latency`,
    ssmPrefix: `/${n}/`,
  } as const;
}
