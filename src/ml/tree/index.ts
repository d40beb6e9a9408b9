/**
 * Regression trees and the machinery shared by every tree learner (binning, split
 * search, growth, flattened prediction). Importing this module registers the 'tree' loader.
 */
export { DecisionTreeRegressor, type DecisionTreeParams } from './regression-tree.js';
export { binMatrix, numericCuts, numericBin, type BinnedMatrix, type BinningOptions } from './binning.js';
export { TreeEnsemble, type SavedTrees } from './tree-ensemble.js';
