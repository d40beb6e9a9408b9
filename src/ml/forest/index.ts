/**
 * Random forests: importing this module registers the 'forest' loader.
 */
export { RandomForestRegressor, type RandomForestParams } from './random-forest.js';
