import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/**
 * The CLI's tests spawn `bp` and train in the child processes: on a two-core
 * machine beside the browser checks a single test has taken 45 s, so they get
 * three minutes each rather than the shared one.
 */
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 180_000 } }));
