/**
 * carprice on AWS, as one CDK stack: the S3 bucket (DVC remote, tracking artifacts and
 * CodeDeploy bundles), the ECR repository, the serving fleet (launch template + auto
 * scaling group behind an ALB whose health check is /ready), CodeDeploy blue/green with
 * automatic rollback on failure and on CloudWatch alarms, the instance and deploy roles,
 * an optional GitHub OIDC role for CI and an optional tracking server.
 *
 * Everything the CI workflow needs (bucket, repository URI, application and group names)
 * is a stack output; deploy/ci scripts read them instead of repeating names.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { type InfraConfig, resourceNames } from './config.js';

export interface CarpriceStackProps extends StackProps {
  readonly config: InfraConfig;
}

/** User data of the serving instances: docker and the CodeDeploy agent, nothing else. */
export function servingUserData(region: string): string[] {
  return [
    'set -euo pipefail',
    'dnf install -y docker ruby wget',
    'systemctl enable --now docker',
    `cd /tmp && wget -q https://aws-codedeploy-${region}.s3.${region}.amazonaws.com/latest/install`,
    'chmod +x ./install && ./install auto',
    'systemctl enable --now codedeploy-agent',
  ];
}

export class CarpriceStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly repository: ecr.Repository;
  readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: CarpriceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const names = resourceNames(config);

    // Storage: one bucket, prefixes for the DVC remote (dvc/), tracking artifacts
    // (mlflow/) and deploy bundles (deploy/). Versioned, encrypted, never public.
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ prefix: 'deploy/', expiration: Duration.days(90) }],
    });
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: names.ecrRepository,
      imageScanOnPush: true,
      lifecycleRules: [{ maxImageCount: 50 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });

    // Instance role: pull images, read the bucket (deploy bundles), read its own SSM
    // parameters (tokens and URIs, never in files), be managed by SSM, run the agent.
    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.repository.grantPull(instanceRole);
    this.bucket.grantRead(instanceRole);
    instanceRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
        resources: [this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${config.name}/*` })],
      }),
    );

    const albSg = new ec2.SecurityGroup(this, 'AlbSecurityGroup', { vpc, description: 'carprice load balancer' });
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from anywhere');
    const instanceSg = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: 'carprice serving instances',
    });
    instanceSg.addIngressRule(albSg, ec2.Port.tcp(80), 'HTTP from the load balancer only');

    const userData = ec2.UserData.forLinux();
    userData.addCommands(...servingUserData(this.region));
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType(config.instanceType),
      role: instanceRole,
      securityGroup: instanceSg,
      userData,
      requireImdsv2: true,
    });
    const asg = new autoscaling.AutoScalingGroup(this, 'Fleet', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: config.minInstances,
      maxCapacity: config.maxInstances,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.seconds(120),
      }),
    });

    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      loadBalancerName: names.loadBalancer,
    });
    // The health check is /ready: 200 only once the model is loaded and a warm-up
    // prediction succeeded, so a slow start never fails the check (the original's problem 11).
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc,
      targetGroupName: names.targetGroup,
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [asg],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/ready',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    alb.addListener('Http', { port: 80, defaultTargetGroups: [this.targetGroup] });

    // Alarms that stop and roll back a deployment: target 5xx rate and p99 latency.
    const m = this.targetGroup.metrics;
    const errorRate = new cloudwatch.MathExpression({
      expression: '100 * IF(requests > 0, errors / requests, 0)',
      usingMetrics: {
        errors: m.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        requests: m.requestCount({ statistic: 'Sum', period: Duration.minutes(1) }),
      },
      period: Duration.minutes(1),
    });
    const alarm5xx = new cloudwatch.Alarm(this, 'Alarm5xx', {
      alarmName: names.alarm5xx,
      metric: errorRate,
      threshold: config.alarm5xxPercent,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarmP99 = new cloudwatch.Alarm(this, 'AlarmP99', {
      alarmName: names.alarmP99,
      metric: m.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1) }),
      threshold: config.alarmP99Ms / 1000,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // CodeDeploy blue/green: a copy of the auto scaling group gets the new version, the
    // ALB switches when every hook passed, the old fleet is kept for a while, and a failed
    // deployment or an alarm rolls back by itself. CDK's L2 server group is in-place only,
    // so the group is the CloudFormation resource itself.
    const application = new codedeploy.ServerApplication(this, 'Application', {
      applicationName: names.codeDeployApplication,
    });
    const deployRole = new iam.Role(this, 'DeployServiceRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRole')],
    });
    // Blue/green with a copied auto scaling group launches instances with the launch
    // template's role: the deploy role must be allowed to pass it.
    deployRole.addToPolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [instanceRole.roleArn] }));
    deployRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['ec2:RunInstances', 'ec2:CreateTags'], resources: ['*'] }),
    );
    const group = new codedeploy.CfnDeploymentGroup(this, 'DeploymentGroup', {
      applicationName: application.applicationName,
      deploymentGroupName: names.deploymentGroup,
      serviceRoleArn: deployRole.roleArn,
      deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      autoScalingGroups: [asg.autoScalingGroupName],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
        greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
        terminateBlueInstancesOnDeploymentSuccess: {
          action: 'TERMINATE',
          terminationWaitTimeInMinutes: config.blueTerminationWaitMinutes,
        },
      },
      loadBalancerInfo: { targetGroupInfoList: [{ name: this.targetGroup.targetGroupName }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
      alarmConfiguration: { enabled: true, alarms: [{ name: alarm5xx.alarmName }, { name: alarmP99.alarmName }] },
    });
    group.node.addDependency(asg);

    if (config.githubRepository) this.addGithubRole(config, names.codeDeployApplication);
    if (config.trackingServer) this.addTrackingServer(config, vpc, albSg);

    new CfnOutput(this, 'BucketName', {
      value: this.bucket.bucketName,
      description: 'DVC remote (s3://BUCKET/dvc), artifacts, deploy bundles',
    });
    new CfnOutput(this, 'RepositoryUri', { value: this.repository.repositoryUri });
    new CfnOutput(this, 'CodeDeployApplicationName', { value: application.applicationName });
    new CfnOutput(this, 'DeploymentGroupName', { value: names.deploymentGroup });
    new CfnOutput(this, 'ServiceUrl', { value: `http://${alb.loadBalancerDnsName}` });
    new CfnOutput(this, 'SsmPrefix', { value: names.ssmPrefix, description: 'SSM parameters read by the instances' });
  }

  /** The role GitHub Actions assumes by OIDC (no long-lived keys in the CI's secrets). */
  private addGithubRole(config: InfraConfig, applicationName: string): void {
    const provider = new iam.OidcProviderNative(this, 'GithubOidc', {
      url: 'https://token.actions.githubusercontent.com',
      clientIds: ['sts.amazonaws.com'],
      thumbprints: ['6938fd4d98bab03faadb97b34396831e3780aea1'],
    });
    const role = new iam.Role(this, 'CiRole', {
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
        StringLike: { 'token.actions.githubusercontent.com:sub': `repo:${config.githubRepository}:*` },
      }),
      maxSessionDuration: Duration.hours(2),
    });
    this.bucket.grantReadWrite(role);
    this.repository.grantPullPush(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'codedeploy:CreateDeployment',
          'codedeploy:GetDeployment',
          'codedeploy:GetDeploymentConfig',
          'codedeploy:RegisterApplicationRevision',
          'codedeploy:GetApplicationRevision',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [this.stackId] }),
    );
    new CfnOutput(this, 'CiRoleArn', { value: role.roleArn, description: `AWS_ROLE_ARN for ${applicationName}'s CI` });
  }

  /** `carprice tracking serve` on its own instance, artifacts on the bucket, port 5000 from the fleet. */
  private addTrackingServer(config: InfraConfig, vpc: ec2.Vpc, albSg: ec2.SecurityGroup): void {
    const role = new iam.Role(this, 'TrackingRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.bucket.grantReadWrite(role, 'mlflow/*');
    this.repository.grantPull(role);
    const sg = new ec2.SecurityGroup(this, 'TrackingSecurityGroup', { vpc, description: 'carprice tracking server' });
    sg.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(5000), 'tracking API inside the VPC');
    void albSg;
    const userData = ec2.UserData.forLinux();
    userData.addCommands(
      'set -euo pipefail',
      'dnf install -y docker',
      'systemctl enable --now docker',
      `aws ecr get-login-password --region ${this.region} | docker login --username AWS --password-stdin ${this.repository.repositoryUri.split('/')[0]}`,
      'mkdir -p /var/lib/carprice && chown 1000:1000 /var/lib/carprice',
      `docker run -d --restart unless-stopped --name tracking -p 5000:5000 -v /var/lib/carprice:/data ${this.repository.repositoryUri}:latest ` +
        `tracking serve --host 0.0.0.0 --port 5000 --backend-store-uri sqlite:////data/mlflow.db --artifacts-destination s3://${this.bucket.bucketName}/mlflow`,
    );
    const instance = new ec2.Instance(this, 'TrackingServer', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType(config.instanceType),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      role,
      securityGroup: sg,
      userData,
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true }) }],
    });
    new CfnOutput(this, 'TrackingUri', { value: `http://${instance.instancePrivateIp}:5000` });
  }
}
