// The shared conformance suite, run against the default CPU backend. Imported by path rather than
// as a package: @bp/conformance depends on @bp/tensor, and a dependency back would be a cycle.
import { runConformanceSuite } from '../../conformance/src/vitest.js';
import { setBackend } from './index.js';

runConformanceSuite({
  name: 'cpu',
  setup: async () => {
    await setBackend('cpu');
  },
});
