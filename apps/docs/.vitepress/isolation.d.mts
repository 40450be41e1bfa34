/** The COOP/COEP response headers that make a page cross-origin isolated (see isolation.mjs). */
export declare const isolationHeaders: Readonly<Record<'Cross-Origin-Opener-Policy' | 'Cross-Origin-Embedder-Policy', string>>;
