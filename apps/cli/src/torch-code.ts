/**
 * The PyTorch `nn.Sequential` that has the same layers, parameter shapes and
 * state-dict names as a bp model, as Python source. `bp export --format
 * safetensors` prints it so the weights load with `load_state_dict`.
 */
import type {
  AvgPool2d,
  BatchNorm1d,
  Conv2d,
  Dropout,
  Flatten,
  GELU,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool2d,
  Module,
  Sequential,
  Softmax,
} from '@bp/layers';
import { BpError } from '@bp/tensor';

const py = (v: boolean) => (v ? 'True' : 'False');
const tuple = (p: readonly number[]) => `(${p.join(', ')})`;
const num = (x: number) => (Number.isInteger(x) ? `${x}.0` : String(x));

/** One layer as a `torch.nn` constructor call; throws naming the layer when PyTorch has no equivalent here. */
function torchLayer(layer: Module, path: string): string {
  switch (layer.layerType) {
    case 'Linear':
    case 'Dense': {
      const l = layer as Linear;
      if ((layer as { activation?: string | null }).activation) break;
      return `nn.Linear(${l.inFeatures}, ${l.outFeatures}, bias=${py(l.useBias)})`;
    }
    case 'Conv2d': {
      const c = layer as Conv2d;
      const padding = typeof c.padding === 'string' ? `'${c.padding}'` : tuple(c.padding);
      return `nn.Conv2d(${c.inChannels}, ${c.outChannels}, kernel_size=${tuple(c.kernelSize)}, stride=${tuple(c.stride)}, padding=${padding}, dilation=${tuple(c.dilation)}, groups=${c.groups}, bias=${py(c.useBias)})`;
    }
    case 'MaxPool2d': {
      const m = layer as MaxPool2d;
      return `nn.MaxPool2d(kernel_size=${tuple(m.kernelSize)}, stride=${tuple(m.stride)}, padding=${tuple(m.padding)}, dilation=${tuple(m.dilation)}, ceil_mode=${py(m.ceilMode)})`;
    }
    case 'AvgPool2d': {
      const a = layer as AvgPool2d;
      const divisor = a.divisorOverride === null ? 'None' : String(a.divisorOverride);
      return `nn.AvgPool2d(kernel_size=${tuple(a.kernelSize)}, stride=${tuple(a.stride)}, padding=${tuple(a.padding)}, ceil_mode=${py(a.ceilMode)}, count_include_pad=${py(a.countIncludePad)}, divisor_override=${divisor})`;
    }
    case 'GELU':
      return `nn.GELU(approximate='${(layer as GELU).approximate}')`;
    case 'SiLU':
      return 'nn.SiLU()';
    case 'Flatten': {
      const f = layer as Flatten;
      return `nn.Flatten(${f.startDim}, ${f.endDim})`;
    }
    case 'BatchNorm1d': {
      const b = layer as BatchNorm1d;
      return `nn.BatchNorm1d(${b.numFeatures}, eps=${b.eps}, momentum=${b.momentum === null ? 'None' : b.momentum}, affine=${py(b.affine)}, track_running_stats=${py(b.trackRunningStats)})`;
    }
    case 'Dropout':
      return `nn.Dropout(${(layer as Dropout).p})`;
    case 'ReLU':
    case 'Sigmoid':
    case 'Tanh':
      return `nn.${layer.layerType}()`;
    case 'LeakyReLU':
      return `nn.LeakyReLU(${num((layer as LeakyReLU).negativeSlope)})`;
    case 'Softmax':
    case 'LogSoftmax':
      return `nn.${layer.layerType}(dim=${(layer as Softmax | LogSoftmax).axis})`;
    case 'Sequential':
      return torchSequential(layer as Sequential, path, '    ');
  }
  throw new BpError(
    'export',
    `layer ${layer.layerType} at '${path}' has no PyTorch equivalent that bp writes; its weights are in the file, the module must be written by hand`,
  );
}

function torchSequential(model: Sequential, path: string, indent: string): string {
  const inner = model.layers.map((l, i) => `${indent}    ${torchLayer(l, path ? `${path}.${i}` : String(i))},`).join('\n');
  return `nn.Sequential(\n${inner}\n${indent})`;
}

/** Python source defining `model`, the `nn.Sequential` equivalent of `model`. */
export function torchModelCode(model: Sequential): string {
  return `model = ${torchSequential(model, '', '')}`;
}
