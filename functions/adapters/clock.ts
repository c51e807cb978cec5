/**
 * The real time and randomness, for the shells (CLI, local loop, Lambda handlers) to pass to
 * the core, which never reads either itself.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, RandomSource } from '#core/ports.ts';

/** The system clock. */
export const systemClock: Clock = () => new Date();

/** Cryptographically strong random bytes (canary and incident ids). */
export const systemRandom: RandomSource = (length) => randomBytes(length);
