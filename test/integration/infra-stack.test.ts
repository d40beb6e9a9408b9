/**
 * The AWS stack, synthesised offline with aws-cdk-lib and checked with its assertions
 * library: the resources exist, the health check is /ready, blue/green rolls back on
 * failure and on the alarms, nothing is public, and every name comes from the config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CarpriceStack } from '../../infra/carprice-stack.js';
import { DEFAULT_INFRA_CONFIG, type InfraConfig, InfraConfigError, readInfraConfig } from '../../infra/config.js';

function synth(overrides: Partial<InfraConfig> = {}): Template {
  const app = new App();
  const config = { ...DEFAULT_INFRA_CONFIG, ...overrides };
  const stack = new CarpriceStack(app, 'TestStack', { config, env: { account: '111111111111', region: 'eu-west-1' } });
  return Template.fromStack(stack);
}

test('the stack holds the bucket, repository, fleet, load balancer and CodeDeploy group', () => {
  const t = synth();
  t.resourceCountIs('AWS::S3::Bucket', 1);
  t.hasResourceProperties('AWS::S3::Bucket', {
    VersioningConfiguration: { Status: 'Enabled' },
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
  });
  t.hasResourceProperties('AWS::ECR::Repository', {
    RepositoryName: 'carprice',
    ImageScanningConfiguration: { ScanOnPush: true },
  });
  t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '2', MaxSize: '4', HealthCheckType: 'ELB' });
  t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
  t.hasResourceProperties('AWS::CodeDeploy::Application', { ApplicationName: 'carprice', ComputePlatform: 'Server' });
});

test('the target group checks /ready, not / (a loading model never fails the check)', () => {
  const t = synth();
  t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
    HealthCheckPath: '/ready',
    Matcher: { HttpCode: '200' },
    Port: 80,
  });
});

test('blue/green deploys roll back on a failed deployment and on the 5xx and p99 alarms', () => {
  const t = synth();
  t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
    DeploymentGroupName: 'carprice-bluegreen',
    DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
    BlueGreenDeploymentConfiguration: Match.objectLike({
      GreenFleetProvisioningOption: { Action: 'COPY_AUTO_SCALING_GROUP' },
      TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 15 },
    }),
    AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    AlarmConfiguration: {
      Enabled: true,
      Alarms: [
        { Name: { Ref: Match.stringLikeRegexp('^Alarm5xx') } },
        { Name: { Ref: Match.stringLikeRegexp('^AlarmP99') } },
      ],
    },
    LoadBalancerInfo: { TargetGroupInfoList: [{ Name: Match.anyValue() }] },
  });
  t.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'carprice-p99-latency',
    Threshold: 0.25,
    ExtendedStatistic: 'p99',
  });
  t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'carprice-5xx-rate', Threshold: 2 });
});

test('instances pull images and read only their own SSM parameters; user data installs docker and the CodeDeploy agent', () => {
  const t = synth();
  const json = JSON.stringify(t.toJSON());
  assert.match(json, /ssm:GetParametersByPath/);
  assert.match(json, /parameter\/carprice\/\*/);
  assert.match(json, /ecr:BatchGetImage/);
  assert.match(json, /codedeploy-agent/);
  assert.match(json, /dnf install -y docker/);
  // The instances accept HTTP only from the load balancer's security group.
  t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
    FromPort: 80,
    ToPort: 80,
    SourceSecurityGroupId: Match.anyValue(),
  });
});

test('every physical name follows config.name; optional CI role and tracking server appear only when asked', () => {
  const t = synth({ name: 'pricing', githubRepository: 'acme/pricing', trackingServer: true });
  t.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'pricing' });
  t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
    DeploymentGroupName: 'pricing-bluegreen',
    ApplicationName: Match.anyValue(),
  });
  t.resourceCountIs('AWS::IAM::OIDCProvider', 1);
  t.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: Match.objectLike({
      Statement: Match.arrayWith([
        Match.objectLike({
          Condition: Match.objectLike({
            StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/pricing:*' },
          }),
        }),
      ]),
    }),
  });
  t.resourceCountIs('AWS::EC2::Instance', 1);
  const plain = synth();
  plain.resourceCountIs('AWS::IAM::OIDCProvider', 0);
  plain.resourceCountIs('AWS::EC2::Instance', 0);
  const json = JSON.stringify(plain.toJSON());
  assert.doesNotMatch(json, /pricing/);
});

test('bad settings name the key and the fix', () => {
  const ctx = (o: Record<string, unknown>) => (k: string) => o[k];
  assert.throws(
    () => readInfraConfig(ctx({ name: 'Car Price' })),
    (e: unknown) => e instanceof InfraConfigError && /name=.*lowercase/.test(e.message),
  );
  assert.throws(
    () => readInfraConfig(ctx({ minInstances: 3, maxInstances: 2 })),
    /maxInstances=2: expected at least minInstances \(3\)/,
  );
  assert.throws(() => readInfraConfig(ctx({ trackingServer: 'yes' })), /trackingServer="yes": expected true or false/);
  assert.throws(() => readInfraConfig(ctx({ githubRepository: 'no-slash' })), /owner\/name/);
  assert.deepEqual(readInfraConfig(ctx({ minInstances: '1' })).minInstances, 1);
  assert.deepEqual(readInfraConfig(ctx({})), DEFAULT_INFRA_CONFIG);
});
