/**
 * Gradient boosted trees: importing this module registers the 'gbdt' loader.
 */
export { GradientBoostingRegressor, type GradientBoostingParams, type BoostingHistory } from './gradient-boosting.js';
export { OBJECTIVES, type Objective } from './loss.js';
