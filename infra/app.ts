/**
 * CDK entry: `npx cdk synth` / `npx cdk deploy` from infra/ (cdk.json points here after
 * `npm run build`). Account and region come from the AWS CLI profile in use
 * (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION); settings from cdk.json context.
 */
import { App } from 'aws-cdk-lib';
import { readInfraConfig } from './config.js';
import { CarpriceStack } from './carprice-stack.js';

const app = new App();
const config = readInfraConfig((key) => app.node.tryGetContext(key));
new CarpriceStack(app, `${config.name[0].toUpperCase()}${config.name.slice(1)}Stack`, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'carprice: used-car price model serving with blue/green deployments',
});
app.synth();
