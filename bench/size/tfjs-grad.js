// The same example with TensorFlow.js: d/dx x^2 at x = 2 on its CPU backend.
// tfjs-core registers gradients and chained methods (`x.pow`) only through
// side-effect modules, so a tree-shaken bundle imports the gradients module
// explicitly (as the full @tensorflow/tfjs package does) and calls `pow(x, 2)`.
import { grad, pow, scalar } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';

const dx = grad((x) => pow(x, 2));
console.log(dx(scalar(2)).dataSync()[0]);
