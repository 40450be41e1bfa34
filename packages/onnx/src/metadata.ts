/** The metadata key under which `exportOnnx` stores the model's architecture (the JSON of `layerToConfig`). */
export const ARCHITECTURE_KEY = 'bp.architecture';
