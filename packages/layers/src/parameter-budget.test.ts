import { zeros } from '@bp/tensor';
import { describe, expect, it } from 'vitest';
import { Linear } from './layers/linear.js';
import { withParameterBudget } from './parameter-budget.js';

const refuse = (layer: string, need: number, left: number) => new Error(`${layer} needs ${need}, ${left} left`);

describe('withParameterBudget', () => {
  it('refuses a layer sized by its input past the budget, before it allocates, and not outside it', () => {
    const lazy = () => new Linear(null, 8);
    // 7 inputs x 8 outputs + 8 biases = 64 values.
    expect(() => withParameterBudget(63, refuse, () => lazy().forward(zeros([1, 7])))).toThrow('Linear needs 64, 63 left');
    expect(withParameterBudget(64, refuse, () => lazy().forward(zeros([1, 7]))).shape).toEqual([1, 8]);
    expect(lazy().forward(zeros([1, 7])).shape).toEqual([1, 8]);
  });

  it('counts what a nested budget spent against the enclosing one', () => {
    const build = () => new Linear(null, 8).forward(zeros([1, 7]));
    expect(() =>
      withParameterBudget(100, refuse, () => {
        withParameterBudget(100, refuse, build);
        build();
      }),
    ).toThrow('Linear needs 64, 36 left');
  });
});
