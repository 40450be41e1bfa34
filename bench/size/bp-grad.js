// The autograd seed example as a browser app would ship it.
import { tensor } from '@bp/tensor';
import '@bp/autograd';

const x = tensor(2, { requiresGrad: true });
x.pow(2).backward();
console.log(x.grad.item());
