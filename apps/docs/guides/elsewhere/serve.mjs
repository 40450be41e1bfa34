// Serves a model exported with `bp export <run> --format onnx` over HTTP, with ONNX Runtime.
//
//   npm install onnxruntime-node
//   node serve.mjs runs/mnist/model.onnx          # PORT=8080 by default
//   curl -s localhost:8080/predict -d '{"images": [[0, 0, 0.5, ... 784 pixels in [0, 1]]]}'
//   {"classes":[7],"logits":[[-1.2, ...]]}
import { createServer } from 'node:http';
import * as ort from 'onnxruntime-node';

const PIXELS = 28 * 28;
const session = await ort.InferenceSession.create(process.argv[2]);
const [input] = session.inputNames; // 'input': [batch, 1, 28, 28], pixels in [0, 1]
const [output] = session.outputNames; // 'output': [batch, 10], the logits

/** Checks the request and returns the batch as one Float32Array, or a message saying what is wrong. */
function parse(body) {
  const images = body?.images;
  if (!Array.isArray(images) || images.length === 0 || images.length > 1024) return 'expected {"images": [...]} with 1 to 1024 images';
  const x = new Float32Array(images.length * PIXELS);
  for (const [i, img] of images.entries()) {
    if (!Array.isArray(img) || img.length !== PIXELS) return `image ${i}: expected ${PIXELS} pixels`;
    for (const [j, v] of img.entries()) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return `image ${i}, pixel ${j}: expected a number in [0, 1]`;
      x[i * PIXELS + j] = v;
    }
  }
  return x;
}

const server = createServer(async (req, res) => {
  const reply = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method !== 'POST' || req.url !== '/predict') return reply(404, { error: 'POST /predict' });
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 32 * 1024 * 1024) return reply(413, { error: 'request too large' });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return reply(400, { error: 'the body is not JSON' });
  }
  const x = parse(body);
  if (typeof x === 'string') return reply(400, { error: x });
  const n = x.length / PIXELS;
  const result = await session.run({ [input]: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
  const y = result[output].data;
  const classes = [];
  const logits = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(y.subarray(i * 10, i * 10 + 10));
    logits.push(row);
    classes.push(row.indexOf(Math.max(...row)));
  }
  reply(200, { classes, logits });
});
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`serving ${process.argv[2]} on http://${address}:${port}/predict`);
});
