/**
 * Random run names in MLflow's style ("bright-fox-123") for runs created without one.
 * Names are not identifiers (run ids are), so they use a non-seeded random source.
 */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'able',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'crisp',
  'eager',
  'fast',
  'fine',
  'gentle',
  'glad',
  'grand',
  'keen',
  'kind',
  'lively',
  'lucky',
  'merry',
  'neat',
  'noble',
  'proud',
  'quick',
  'quiet',
  'rare',
  'sharp',
  'shy',
  'smart',
  'steady',
  'swift',
  'warm',
];
const NOUNS = [
  'ant',
  'bass',
  'bat',
  'bear',
  'cat',
  'crab',
  'deer',
  'dove',
  'eel',
  'finch',
  'fox',
  'frog',
  'goat',
  'hare',
  'hawk',
  'lark',
  'lion',
  'lynx',
  'mole',
  'moth',
  'newt',
  'owl',
  'puma',
  'ram',
  'seal',
  'shrew',
  'snail',
  'swan',
  'toad',
  'wolf',
];

/** A fresh "adjective-noun-NNN" run name. */
export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
