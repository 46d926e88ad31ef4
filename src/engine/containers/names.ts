/**
 * Container names: dockerd's validation and a generator of `adjective_name` pairs for
 * containers created without one (our own word lists; the shape is Docker's).
 */
import { randomInt } from 'node:crypto';
import { BerthError } from '../../common/errors.js';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The name without '/', or dockerd's 400. */
export function validateName(name: string): string {
  if (!VALID.test(name))
    throw new BerthError('invalid-argument', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, {
      object: name,
    });
  return name.startsWith('/') ? name.slice(1) : name;
}

const ADJECTIVES = [
  'agile',
  'amber',
  'ample',
  'bold',
  'brave',
  'bright',
  'brisk',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'dapper',
  'eager',
  'fair',
  'fond',
  'gentle',
  'glad',
  'grand',
  'happy',
  'hardy',
  'keen',
  'kind',
  'lively',
  'lucid',
  'merry',
  'mellow',
  'nimble',
  'noble',
  'patient',
  'placid',
  'proud',
  'quick',
  'quiet',
  'serene',
  'sharp',
  'steady',
  'sunny',
  'swift',
  'tender',
  'tidy',
  'vivid',
  'warm',
  'wise',
  'witty',
  'zealous',
];
const NAMES = [
  'agnesi',
  'archimedes',
  'babbage',
  'bartik',
  'bohr',
  'boole',
  'cannon',
  'curie',
  'darwin',
  'dijkstra',
  'euclid',
  'euler',
  'faraday',
  'fermat',
  'feynman',
  'franklin',
  'galileo',
  'gauss',
  'germain',
  'goldberg',
  'hamilton',
  'hawking',
  'hopper',
  'hypatia',
  'johnson',
  'kepler',
  'knuth',
  'lamarr',
  'lovelace',
  'maxwell',
  'meitner',
  'mirzakhani',
  'newton',
  'noether',
  'pascal',
  'planck',
  'ramanujan',
  'ritchie',
  'shannon',
  'somerville',
  'thompson',
  'tesla',
  'turing',
  'wilson',
  'wozniak',
  'yalow',
];

/** A free generated name; after a few collisions a digit is appended, as Docker does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    let name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NAMES[randomInt(NAMES.length)]}`;
    if (i > 5) name += String(randomInt(10 ** Math.min(9, i)));
    if (!taken(name)) return name;
  }
}
