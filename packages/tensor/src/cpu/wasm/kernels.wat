;; WebAssembly SIMD (f32x4) kernels of the CPU backend: matrix products and float32 elementwise loops.
;; kernels-wasm.ts holds this module assembled by generate.mjs, with the TypeScript interface of its
;; exports: after editing this file, run `node src/cpu/wasm/generate.mjs` in packages/tensor (a test
;; checks the two agree). __SHARED__ becomes `shared` in the variant whose memory worker threads share.
;;
;; generate.mjs also writes two families of functions at the markers near the end: the elementwise
;; kernels (add, mul_scalar, relu, ...: one f32x4 loop each, from a table), and the exports of the
;; thread kernels (gemm_blocked, gemm_claim, conv_fwd, conv_bwd_w, conv_bwd_x, maxpool2x2, unpool). Those are written
;; here as internal functions with positional i32 parameters; each export takes the byte address of
;; a struct holding those parameters in order (one i32 each) and calls it, so JavaScript and worker
;; threads pass one number however many arguments a kernel has.
;;
;; gemm(a, lda, b, ldb, c, ldc, mBlocks, nBlocks, kc, acc, pst, apk) computes C (+)= A @ B on row-major
;; matrices at byte addresses a, b, c with row strides lda, ldb, ldc (in floats): A is 4*mBlocks x kc,
;; B is kc x 8*nBlocks, its 8-column panels pst bytes apart (32 in a row-major matrix; a packed
;; panel's rows are ldb = 8 floats apart); acc = 0 stores the product, otherwise adds it to C.
;; With apk != 0, A is in 4-row strips (see pack_a), strip i at a + 16*lda*i bytes: a tile then reads
;; one contiguous stream of A through a single pointer instead of four rows lda floats apart.
;; Each 4x8 tile of C lives in eight f32x4 registers for the whole depth loop, so every value
;; loaded from A or B is used 8 or 4 times before it leaves the core; the tiles of one 8-column
;; panel of B run back to back so that panel stays in L1.
;;
;; gemm_blocked(a, b, c, mp, k, np, nb0, nb1, kcMax, mcMax, packed, pa) computes the column panels nb0..nb1
;; of C = A @ B for A [mp, k], B [k, np], C [mp, np] (row-major, contiguous; B packed when packed != 0;
;; A read from its 4-row strips at pa, written there by pack_a, when pa != 0):
;; gemm over row blocks of mcMax and, inside each, depth blocks of kcMax, so the working set (the A block,
;; a panel of B, the row block of C being summed into) stays in cache. Threads
;; each take their own range of panels, so they never write the same memory.
;;
;; gemm_claim(a, b, c, mp, k, np, chunk, kcMax, mcMax, packed, counter, pa) is gemm_blocked over all panels,
;; claimed `chunk` panels at a time from the i32 counter at byte address counter (zeroed by the
;; caller), so every thread running it on the same product shares the panels however fast each runs.
;;
;; pack_b(src, k, n, dst) writes B [k, n] (row-major at src) as packed panels [ceil(n/8), k, 8] at dst,
;; the last one padded with zeros: each panel's k rows lie in 32*k contiguous bytes, so the matrix
;; kernel's walk down a panel touches a few pages and cache sets instead of one per row.
;; pack_bt(src, n, k, dst) does the same for B given transposed (stored [n, k]).
;; pack_claim(src, k, n, dst, trans, chunk, counter) is pack_b (pack_bt when trans != 0, src then
;; stored [n, k]) with its panels claimed `chunk` at a time from the i32 counter at byte address
;; counter (zeroed by the caller), so the threads of a threaded product share the packing.
;;
;; pack_a(src, m, k, dst) writes A [m, k] (row-major at src, m a multiple of 4) as strips [m/4, k, 4] at
;; dst: strip i holds rows 4i..4i+3 transposed, so the four values a tile of gemm needs at each depth
;; are 16 contiguous bytes. The sums run in the same order either way, so the bits are the same.
;;
;; transpose(src, rows, cols, dst, ldd) writes dst[j][i] = src[i][j] (dst row stride ldd floats);
;; $transpose_ld(src, lds, rows, cols, dst, ldd) does the same with source rows lds floats apart.
;;
;; adam(p, g, m, v, n, b1, b2, a1, a2, step, eps, first, decay, wd, shrink) is one Adam step in place
;; (generated: generate.mjs adamKernel).
;;
;; im2col(x, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dst, ld) writes the columns of one image
;; x [c, h, w] (byte address): row r = (ch*kh + ki)*kw + kj of dst (row stride ld floats) holds at
;; column p = oy*ow + ox the input cell (oy*sh - ph + ki, ox*sw - pw + kj), or 0 outside the image.
;;
;; col2im(cols, ld, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dst) is its adjoint: it adds every
;; column value of cols (row stride ld floats) into its cell of dst [c, h, w], which the caller zeroes.
;; Both take a shortcut for stride 1 with output rows as wide as the image's (a 'same'
;; convolution): there a row of columns is the image shifted by a constant, so im2col copies it as
;; one block and then zeroes the cells that read padding, and col2im zeroes those cells in cols (which
;; it may therefore change there) and adds the rest as one block. Both are exported for the tests.
;;
;; unpool(dy, vals, idx, planes, h, w, oh, ow, dst, shift, first) is the gradient of maxpool2x2 with
;; relu, written over planes first .. first+planes of the [h, w] planes at dst: each 2x2 window's four
;; cells get 0, then the cell at dst + 4*(idx[j] - shift) (idx int32) gets dy[j] unless vals[j] <= 0;
;; dy, vals and idx start at plane `first`'s windows, as maxpool2x2's outputs do. Cells outside every
;; window (the last row or column of an odd h or w) are left as they are. The windows do not
;; overlap, so threads running it on disjoint ranges of planes write disjoint floats.
;;
;; maxpool2x2(x, planes, h, w, oh, ow, vals, idx, first, relu) is 2x2 max pooling with stride 2 over planes
;; first .. first+planes of the [h, w] planes at x: vals and idx (for plane `first` onwards) get each
;; window's maximum and (int32) its flat index into x, scanning the window row by row; the first
;; maximum wins and a NaN wins over numbers. With relu != 0 it pools relu(x) (-0 read as 0 and NaN
;; as NaN, as the relu kernel gives them) instead of x.
;;
;; relu_grad(dy, x, o, n) is 0 where x <= 0, else dy (the gradient of relu(x); dy where x is NaN, as in PyTorch).
;;
;; im2col_batch(x, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dst, ld) runs im2col for n images stored
;; one after another at x, their columns side by side (image b from column b*oh*ow).
;; col2im_batch(cols, ld, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dst) zeroes n images at dst and
;; runs col2im for each (image b from column b*oh*ow).
;; transpose_batch(src, n, rows, cols, dst, ldd, step) transposes n rows x cols matrices stored one
;; after another at src, the b-th to dst + b*step floats (row stride ldd).
;; wide_rows(src, n, rows, p, dst, ld) moves [n, rows, p] to [rows, n*p] (row stride ld), zeroing
;; each row's columns n*p..ld.
;;
;; The convolution drivers below work through images in groups of g, so each group's columns
;; (c*kh*kw x g*oh*ow floats) stay in cache between being written and being multiplied; every
;; thread runs them with its own scratch buffers.
;;
;; Each takes the byte address of an i32 counter, zeroed by the caller: every thread running the
;; driver on the same images claims the next group from it until none is left.
;;
;; conv_fwd(x, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, wgt, mp, bias, outC, out, cols, cbuf, g, counter):
;; y = conv(x) for n images at x into out [n, outC, oh*ow]; wgt is [mp, c*kh*kw] (rows past outC
;; zero), bias [outC] or 0 for none; cols and cbuf hold c*kh*kw x np and mp x np floats, np being
;; g*oh*ow rounded up to 8.
;;
;; conv_bwd_w(x, n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dy, outC, kp, op, ones, cols, dyt, acc, g, counter):
;; for each group i, dW^T [kp, op] = cols [kp, N] @ dy^T [N, op] (N = images * oh*ow) into block i
;; (kp x op floats) of acc; with ones != 0, row c*kh*kw of cols is ones, so
;; that row of each block holds the bias gradient. cols and dyt hold kp x g*oh*ow and g*oh*ow x op floats.
;;
;; conv_bwd_x(dy, n, outC, wt, kp, dyw, dcol, dx, g, counter, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow):
;; dx [n, c, h, w] = col2im(W^T @ dy) for each group; wt is W^T [kp, outC]; dyw and dcol hold
;; outC x np and kp x np floats.
;;
;; Elementwise kernels take byte addresses and a count n of floats; they process ceil(n/4)*4
;; floats, so callers leave room for the rounding. Results equal JavaScript's float64 arithmetic
;; rounded to float32 (add, sub, mul, div and sqrt of float32 values round the same either way).
(module
  (import "env" "memory" (memory 1 65536 __SHARED__))
  (func $gemm
    (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $mb i32) (param $nb i32) (param $kc i32) (param $acc i32) (param $pst i32) (param $apk i32)
    (local $jb i32) (local $ib i32) (local $p i32) (local $bp i32) (local $cp i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $ldab i32) (local $ldbb i32) (local $ldcb i32) (local $aend i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $b0 v128) (local $b1 v128) (local $av v128)
    (if (i32.or (i32.or (i32.eqz (local.get $mb)) (i32.eqz (local.get $nb))) (i32.eqz (local.get $kc))) (then (return)))
    (local.set $ldab (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $ldbb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $jb (i32.const 0))
    (loop $panels
      (local.set $ib (i32.const 0))
      (loop $blocks
        (local.set $a0 (i32.add (local.get $a) (i32.mul (i32.shl (local.get $ib) (i32.const 2)) (local.get $ldab))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $ldab)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $ldab)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $ldab)))
        (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $jb) (local.get $pst))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0))
        (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0))
        (local.set $c31 (v128.const i32x4 0 0 0 0))
        (if (local.get $apk)
          (then
            ;; A in 4-row strips: the tile's four values of A at each depth are 16 contiguous bytes.
            (local.set $aend (i32.add (local.get $a0) (i32.shl (local.get $kc) (i32.const 4))))
            (loop $pdepth
              (local.set $b0 (v128.load (local.get $bp)))
              (local.set $b1 (v128.load offset=16 (local.get $bp)))
              (local.set $av (v128.load32_splat (local.get $a0)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat offset=4 (local.get $a0)))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat offset=8 (local.get $a0)))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat offset=12 (local.get $a0)))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $a0 (i32.add (local.get $a0) (i32.const 16)))
              (local.set $bp (i32.add (local.get $bp) (local.get $ldbb)))
              (br_if $pdepth (i32.ne (local.get $a0) (local.get $aend)))))
          (else
            (local.set $p (local.get $kc))
            (loop $depth
              (local.set $b0 (v128.load (local.get $bp)))
              (local.set $b1 (v128.load offset=16 (local.get $bp)))
              (local.set $av (v128.load32_splat (local.get $a0)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (local.get $a1)))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (local.get $a2)))
              (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $av (v128.load32_splat (local.get $a3)))
              (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $av) (local.get $b0))))
              (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $av) (local.get $b1))))
              (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
              (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
              (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
              (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
              (local.set $bp (i32.add (local.get $bp) (local.get $ldbb)))
              (local.set $p (i32.sub (local.get $p) (i32.const 1)))
              (br_if $depth (local.get $p)))))
        (local.set $cp (i32.add (local.get $c)
          (i32.add (i32.mul (local.get $ib) (i32.shl (local.get $ldcb) (i32.const 2))) (i32.shl (local.get $jb) (i32.const 5)))))
        (if (local.get $acc)
          (then (v128.store (local.get $cp) (f32x4.add (v128.load (local.get $cp)) (local.get $c00))))
          (else (v128.store (local.get $cp) (local.get $c00))))
        (if (local.get $acc)
          (then (v128.store offset=16 (local.get $cp) (f32x4.add (v128.load offset=16 (local.get $cp)) (local.get $c01))))
          (else (v128.store offset=16 (local.get $cp) (local.get $c01))))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
        (if (local.get $acc)
          (then (v128.store (local.get $cp) (f32x4.add (v128.load (local.get $cp)) (local.get $c10))))
          (else (v128.store (local.get $cp) (local.get $c10))))
        (if (local.get $acc)
          (then (v128.store offset=16 (local.get $cp) (f32x4.add (v128.load offset=16 (local.get $cp)) (local.get $c11))))
          (else (v128.store offset=16 (local.get $cp) (local.get $c11))))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
        (if (local.get $acc)
          (then (v128.store (local.get $cp) (f32x4.add (v128.load (local.get $cp)) (local.get $c20))))
          (else (v128.store (local.get $cp) (local.get $c20))))
        (if (local.get $acc)
          (then (v128.store offset=16 (local.get $cp) (f32x4.add (v128.load offset=16 (local.get $cp)) (local.get $c21))))
          (else (v128.store offset=16 (local.get $cp) (local.get $c21))))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldcb)))
        (if (local.get $acc)
          (then (v128.store (local.get $cp) (f32x4.add (v128.load (local.get $cp)) (local.get $c30))))
          (else (v128.store (local.get $cp) (local.get $c30))))
        (if (local.get $acc)
          (then (v128.store offset=16 (local.get $cp) (f32x4.add (v128.load offset=16 (local.get $cp)) (local.get $c31))))
          (else (v128.store offset=16 (local.get $cp) (local.get $c31))))
        (local.set $ib (i32.add (local.get $ib) (i32.const 1)))
        (br_if $blocks (i32.lt_u (local.get $ib) (local.get $mb))))
      (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
      (br_if $panels (i32.lt_u (local.get $jb) (local.get $nb)))))
  (func $gemm_blocked
    (param $a i32) (param $b i32) (param $c i32) (param $mp i32) (param $k i32) (param $np i32)
    (param $nb0 i32) (param $nb1 i32) (param $kcMax i32) (param $mcMax i32) (param $packed i32) (param $pa i32)
    (local $p0 i32) (local $i0 i32) (local $kc i32) (local $mc i32) (local $bb i32) (local $ldb i32) (local $pst i32)
    (if (i32.or (i32.ge_u (local.get $nb0) (local.get $nb1)) (i32.eqz (local.get $k))) (then (return)))
    (local.set $ldb (local.get $np))
    (local.set $pst (i32.const 32))
    (if (local.get $packed)
      (then
        (local.set $ldb (i32.const 8))
        (local.set $pst (i32.shl (local.get $k) (i32.const 5)))))
    ;; Row blocks outside, depth blocks inside: the MC rows of C a row block writes (MC x np floats, or
    ;; the thread's panels of them) stay in L2 while every depth block adds into them, instead of the
    ;; whole of C passing through the cache once per depth block. Each element still sums its depth
    ;; blocks in order, so the bits are the same.
    (local.set $i0 (i32.const 0))
    (loop $rows
      (local.set $mc (i32.sub (local.get $mp) (local.get $i0)))
      (if (i32.gt_u (local.get $mc) (local.get $mcMax)) (then (local.set $mc (local.get $mcMax))))
      (local.set $p0 (i32.const 0))
      (loop $depth
        (local.set $kc (i32.sub (local.get $k) (local.get $p0)))
        (if (i32.gt_u (local.get $kc) (local.get $kcMax)) (then (local.set $kc (local.get $kcMax))))
        ;; Panel nb0 of B at depth p0: row p0 of the row-major matrix, or row p0 of packed panel nb0.
        (local.set $bb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $p0) (local.get $np)) (i32.shl (local.get $nb0) (i32.const 3))) (i32.const 2))))
        (if (local.get $packed)
          (then (local.set $bb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $nb0) (local.get $k)) (local.get $p0)) (i32.const 5))))))
        (call $gemm
          (select
            (i32.add (local.get $pa) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $k)) (i32.shl (local.get $p0) (i32.const 2))) (i32.const 2)))
            (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $k)) (local.get $p0)) (i32.const 2)))
            (local.get $pa))
          (local.get $k)
          (local.get $bb)
          (local.get $ldb)
          (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i0) (local.get $np)) (i32.shl (local.get $nb0) (i32.const 3))) (i32.const 2)))
          (local.get $np)
          (i32.shr_u (local.get $mc) (i32.const 2))
          (i32.sub (local.get $nb1) (local.get $nb0))
          (local.get $kc)
          (local.get $p0)
          (local.get $pst)
          (local.get $pa))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br_if $depth (i32.lt_u (local.get $p0) (local.get $k))))
      (local.set $i0 (i32.add (local.get $i0) (local.get $mc)))
      (br_if $rows (i32.lt_u (local.get $i0) (local.get $mp)))))
  ;; gemm_batch(a, b, c, mp, k, np, count, as, bs, cs, kcMax, mcMax) is gemm_blocked over all panels of `count`
  ;; products, item i's A, B and C at a + i*as, b + i*bs, c + i*cs bytes (as or bs 0 for an operand
  ;; the whole batch shares): a batch of small products in one call.
  (func $gemm_batch
    (param $a i32) (param $b i32) (param $c i32) (param $mp i32) (param $k i32) (param $np i32)
    (param $count i32) (param $as i32) (param $bs i32) (param $cs i32) (param $kcMax i32) (param $mcMax i32)
    (if (i32.le_s (local.get $count) (i32.const 0)) (then (return)))
    (loop $items
      (call $gemm_blocked (local.get $a) (local.get $b) (local.get $c) (local.get $mp) (local.get $k) (local.get $np)
        (i32.const 0) (i32.shr_u (local.get $np) (i32.const 3)) (local.get $kcMax) (local.get $mcMax) (i32.const 0) (i32.const 0))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (local.set $c (i32.add (local.get $c) (local.get $cs)))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br_if $items (local.get $count))))
  (func $gemm_claim
    (param $a i32) (param $b i32) (param $c i32) (param $mp i32) (param $k i32) (param $np i32)
    (param $chunk i32) (param $kcMax i32) (param $mcMax i32) (param $packed i32) (param $counter i32) (param $pa i32)
    (local $nb i32) (local $nb0 i32) (local $nb1 i32)
    (if (i32.le_s (local.get $chunk) (i32.const 0)) (then (return)))
    (local.set $nb (i32.shr_u (local.get $np) (i32.const 3)))
    ;; Chunks of panels are claimed one at a time from the shared counter, so a thread that runs
    ;; slower (or starts later) simply takes fewer; each panel's result does not depend on who computes it.
    (block $done
      (loop $chunks
        (local.set $nb0 (i32.mul (i32.atomic.rmw.add (local.get $counter) (i32.const 1)) (local.get $chunk)))
        (br_if $done (i32.ge_u (local.get $nb0) (local.get $nb)))
        (local.set $nb1 (i32.add (local.get $nb0) (local.get $chunk)))
        (if (i32.gt_u (local.get $nb1) (local.get $nb)) (then (local.set $nb1 (local.get $nb))))
        (call $gemm_blocked (local.get $a) (local.get $b) (local.get $c) (local.get $mp) (local.get $k) (local.get $np)
          (local.get $nb0) (local.get $nb1) (local.get $kcMax) (local.get $mcMax) (local.get $packed) (local.get $pa))
        (br $chunks))))
;; linear_dw(dz, x, c, rows, outF, np, at, kcMax, mcMax): a linear layer's weight gradient
  ;; dw = dz^T @ x into c [m2, np] (m2 = outF rounded up to 4) for dz [rows, outF] as stored and
  ;; x [rows, np] (pad columns zero): dz^T goes to `at` [m2, rows] first (pad rows zeroed), then
  ;; the products of $gemm_blocked, so the bits of the matrix product. A task a worker runs
  ;; while the calling thread goes on (the backward pass needs dx at once, dw only later).
  (func $linear_dw
    (param $dz i32) (param $x i32) (param $c i32) (param $rows i32) (param $outF i32) (param $np i32) (param $at i32)
    (param $kcMax i32) (param $mcMax i32)
    (local $m2 i32)
    (local.set $m2 (i32.and (i32.add (local.get $outF) (i32.const 3)) (i32.const -4)))
    (call $transpose (local.get $dz) (local.get $rows) (local.get $outF) (local.get $at) (local.get $rows))
    (memory.fill
      (i32.add (local.get $at) (i32.shl (i32.mul (local.get $outF) (local.get $rows)) (i32.const 2)))
      (i32.const 0)
      (i32.shl (i32.mul (i32.sub (local.get $m2) (local.get $outF)) (local.get $rows)) (i32.const 2)))
    (call $gemm_blocked (local.get $at) (local.get $x) (local.get $c) (local.get $m2) (local.get $rows) (local.get $np)
      (i32.const 0) (i32.shr_u (local.get $np) (i32.const 3)) (local.get $kcMax) (local.get $mcMax) (i32.const 0) (i32.const 0)))
  (func $pack_a (export "pack_a") (param $src i32) (param $m i32) (param $k i32) (param $dst i32)
    (local $s i32) (local $strip i32)
    ;; A [m, k] (m a multiple of 4) as strips [m/4, k, 4]: strip s is rows 4s..4s+3 transposed.
    (if (i32.or (i32.lt_u (local.get $m) (i32.const 4)) (i32.eqz (local.get $k))) (then (return)))
    (local.set $strip (i32.shl (local.get $k) (i32.const 4)))
    (local.set $s (i32.shr_u (local.get $m) (i32.const 2)))
    (loop $strips
      (call $transpose (local.get $src) (i32.const 4) (local.get $k) (local.get $dst) (i32.const 4))
      (local.set $src (i32.add (local.get $src) (local.get $strip)))
      (local.set $dst (i32.add (local.get $dst) (local.get $strip)))
      (local.set $s (i32.sub (local.get $s) (i32.const 1)))
      (br_if $strips (local.get $s))))
  (func $transpose (export "transpose") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (call $transpose_ld (local.get $src) (local.get $cols) (local.get $rows) (local.get $cols) (local.get $dst) (local.get $ldd)))
  (func $transpose_ld (export "transpose_ld") (param $src i32) (param $lds i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $i i32) (local $j i32) (local $s i32) (local $d i32) (local $lddb i32) (local $colsb i32) (local $i4 i32) (local $j4 i32)
    (local $ii i32) (local $iend i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (if (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $cols))) (then (return)))
    (local.set $lddb (i32.shl (local.get $ldd) (i32.const 2)))
    (local.set $colsb (i32.shl (local.get $lds) (i32.const 2)))
    (local.set $i4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $j4 (i32.and (local.get $cols) (i32.const -4)))
    ;; 4x4 blocks: four rows loaded as vectors, transposed with shuffles, stored as four columns.
    ;; Sixteen rows at a time for each four columns, so the four destination rows they write get
    ;; whole 64-byte lines one after the other: destination rows a power of two apart (2 KiB, say)
    ;; share a few cache sets, and writing all of them a vector at a time evicts each line before
    ;; its next vector comes (a 512x64 transpose took 7 times as long as a 64x512 one).
    (local.set $i (i32.const 0))
    (block $bdone
      (loop $bi
        (br_if $bdone (i32.ge_u (local.get $i) (local.get $i4)))
        (local.set $iend (select (local.get $i4) (i32.add (local.get $i) (i32.const 16)) (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $i4))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $bj
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $j4)))
            (local.set $ii (local.get $i))
            (loop $bii
            (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $ii) (local.get $lds)) (local.get $j)) (i32.const 2))))
            (local.set $r0 (v128.load (local.get $s)))
            (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $colsb))))
            (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $colsb) (i32.const 1)))))
            (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $colsb) (i32.const 3)))))
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ldd)) (local.get $ii)) (i32.const 2))))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (local.get $lddb)))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (local.set $d (i32.add (local.get $d) (local.get $lddb)))
            (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (local.set $d (i32.add (local.get $d) (local.get $lddb)))
            (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $ii (i32.add (local.get $ii) (i32.const 4)))
            (br_if $bii (i32.lt_u (local.get $ii) (local.get $iend))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $bj)))
        (local.set $i (local.get $iend))
        (br $bi)))
    ;; What the blocks left: columns j4.. of rows 0..i4, then rows i4.. whole, one value at a time.
    (local.set $i (i32.const 0))
    (block $rdone
      (loop $r
        (br_if $rdone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (select (i32.const 0) (local.get $j4) (i32.ge_u (local.get $i) (local.get $i4))))
        (block $cdone
          (loop $c
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $cols)))
            (i32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $ldd)) (local.get $i)) (i32.const 2)))
              (i32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $lds)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $c)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r))))
  (func $pack_b (export "pack_b") (param $src i32) (param $k i32) (param $n i32) (param $dst i32)
    (call $pack_b_range (local.get $src) (local.get $k) (local.get $n) (local.get $dst) (i32.const 0)
      (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3))))
  (func $pack_b_range (param $src i32) (param $k i32) (param $n i32) (param $dst i32) (param $jb0 i32) (param $jb1 i32)
    (local $jb i32) (local $p i32) (local $s i32) (local $d i32) (local $full i32) (local $rem i32) (local $nb4 i32) (local $end i32)
    (local $pst1 i32) (local $pst2 i32) (local $pst3 i32) (local $pst4 i32) (local $pst5 i32) (local $pst6 i32) (local $pst7 i32)
    ;; Panels jb0..jb1 of pack_b's output (panel jb at dst + 32*k*jb).
    (if (i32.or (i32.eqz (local.get $k)) (i32.eqz (local.get $n))) (then (return)))
    (local.set $nb4 (i32.shl (local.get $n) (i32.const 2)))
    (local.set $full (i32.shr_u (local.get $n) (i32.const 3)))
    (local.set $end (select (local.get $full) (local.get $jb1) (i32.lt_u (local.get $full) (local.get $jb1))))
    (local.set $d (i32.add (local.get $dst) (i32.mul (i32.shl (local.get $k) (i32.const 5)) (local.get $jb0))))
    ;; pst1..pst7: the byte distance from a panel to the 1st..7th panel after it.
    (local.set $pst1 (i32.shl (local.get $k) (i32.const 5)))
    (local.set $pst2 (i32.shl (local.get $pst1) (i32.const 1)))
    (local.set $pst3 (i32.add (local.get $pst2) (local.get $pst1)))
    (local.set $pst4 (i32.shl (local.get $pst1) (i32.const 2)))
    (local.set $pst5 (i32.add (local.get $pst4) (local.get $pst1)))
    (local.set $pst6 (i32.add (local.get $pst4) (local.get $pst2)))
    (local.set $pst7 (i32.add (local.get $pst4) (local.get $pst3)))
    (local.set $jb (local.get $jb0))
    ;; Runs of 8 whole panels: one walk down the rows reads 256 contiguous bytes of each row (whole
    ;; cache lines) for 8 panels; a walk per panel fetched each line again for the next panel, the rows
    ;; n floats apart (4 KiB at n = 1024, all in a few cache sets).
    (block $w8done
      (loop $w8
        (br_if $w8done (i32.gt_u (i32.add (local.get $jb) (i32.const 8)) (local.get $end)))
        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $jb) (i32.const 5))))
        (local.set $p (local.get $k))
        (loop $rows
          (v128.store offset=0 (local.get $d) (v128.load offset=0 (local.get $s)))
          (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst1)) (v128.load offset=32 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst1)) (v128.load offset=48 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst2)) (v128.load offset=64 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst2)) (v128.load offset=80 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst3)) (v128.load offset=96 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst3)) (v128.load offset=112 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst4)) (v128.load offset=128 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst4)) (v128.load offset=144 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst5)) (v128.load offset=160 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst5)) (v128.load offset=176 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst6)) (v128.load offset=192 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst6)) (v128.load offset=208 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst7)) (v128.load offset=224 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst7)) (v128.load offset=240 (local.get $s)))
          (local.set $d (i32.add (local.get $d) (i32.const 32)))
          (local.set $s (i32.add (local.get $s) (local.get $nb4)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br_if $rows (local.get $p)))
        ;; d is at the end of the first panel of the run: on to the panel after the run.
        (local.set $d (i32.add (local.get $d) (local.get $pst7)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 8)))
        (br $w8)))
    ;; Runs of 4 whole panels: one walk down the rows reads 128 contiguous bytes of each row (whole
    ;; cache lines) for 4 panels; a walk per panel fetched each line again for the next panel, the rows
    ;; n floats apart (4 KiB at n = 1024, all in a few cache sets).
    (block $w4done
      (loop $w4
        (br_if $w4done (i32.gt_u (i32.add (local.get $jb) (i32.const 4)) (local.get $end)))
        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $jb) (i32.const 5))))
        (local.set $p (local.get $k))
        (loop $rows
          (v128.store offset=0 (local.get $d) (v128.load offset=0 (local.get $s)))
          (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst1)) (v128.load offset=32 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst1)) (v128.load offset=48 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst2)) (v128.load offset=64 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst2)) (v128.load offset=80 (local.get $s)))
          (v128.store offset=0 (i32.add (local.get $d) (local.get $pst3)) (v128.load offset=96 (local.get $s)))
          (v128.store offset=16 (i32.add (local.get $d) (local.get $pst3)) (v128.load offset=112 (local.get $s)))
          (local.set $d (i32.add (local.get $d) (i32.const 32)))
          (local.set $s (i32.add (local.get $s) (local.get $nb4)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br_if $rows (local.get $p)))
        ;; d is at the end of the first panel of the run: on to the panel after the run.
        (local.set $d (i32.add (local.get $d) (local.get $pst3)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 4)))
        (br $w4)))
    ;; The whole panels left one at a time: row p of panel jb is 8 consecutive floats of row p of the source.
    (block $pdone
      (loop $panels
        (br_if $pdone (i32.ge_u (local.get $jb) (local.get $end)))
        (local.set $s (i32.add (local.get $src) (i32.shl (local.get $jb) (i32.const 5))))
        (local.set $p (local.get $k))
        (loop $rows
          (v128.store (local.get $d) (v128.load (local.get $s)))
          (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
          (local.set $d (i32.add (local.get $d) (i32.const 32)))
          (local.set $s (i32.add (local.get $s) (local.get $nb4)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br_if $rows (local.get $p)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
        (br $panels)))
    ;; The ragged last panel, when in range: its rem columns, then zeros.
    (local.set $rem (i32.and (local.get $n) (i32.const 7)))
    (if (i32.or (i32.eqz (local.get $rem)) (i32.le_u (local.get $jb1) (local.get $full))) (then (return)))
    (memory.fill (local.get $d) (i32.const 0) (i32.shl (local.get $k) (i32.const 5)))
    (local.set $s (i32.add (local.get $src) (i32.shl (local.get $full) (i32.const 5))))
    (local.set $p (local.get $k))
    (loop $rows
      (memory.copy (local.get $d) (local.get $s) (i32.shl (local.get $rem) (i32.const 2)))
      (local.set $d (i32.add (local.get $d) (i32.const 32)))
      (local.set $s (i32.add (local.get $s) (local.get $nb4)))
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (br_if $rows (local.get $p))))
  (func $pack_bt (export "pack_bt") (param $src i32) (param $n i32) (param $k i32) (param $dst i32)
    (call $pack_bt_range (local.get $src) (local.get $n) (local.get $k) (local.get $dst) (i32.const 0)
      (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3))))
  (func $pack_bt_range (param $src i32) (param $n i32) (param $k i32) (param $dst i32) (param $jb0 i32) (param $jb1 i32)
    (local $jb i32) (local $rows i32)
    ;; B^T stored [n, k]: panel jb is rows jb*8 .. jb*8+8 of the storage, transposed to [k, 8].
    (if (i32.or (i32.eqz (local.get $k)) (i32.ge_u (local.get $jb0) (local.get $jb1))) (then (return)))
    (local.set $jb (local.get $jb0))
    (local.set $dst (i32.add (local.get $dst) (i32.mul (i32.shl (local.get $k) (i32.const 5)) (local.get $jb0))))
    (loop $panels
      (local.set $rows (i32.sub (local.get $n) (i32.shl (local.get $jb) (i32.const 3))))
      (if (i32.lt_u (local.get $rows) (i32.const 8))
        (then (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $k) (i32.const 5))))
        (else (local.set $rows (i32.const 8))))
      (call $transpose (i32.add (local.get $src) (i32.mul (i32.shl (local.get $jb) (i32.const 5)) (local.get $k)))
        (local.get $rows) (local.get $k) (local.get $dst) (i32.const 8))
      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 5))))
      (local.set $jb (i32.add (local.get $jb) (i32.const 1)))
      (br_if $panels (i32.lt_u (local.get $jb) (local.get $jb1)))))
  (func $pack_claim
    (param $src i32) (param $k i32) (param $n i32) (param $dst i32) (param $trans i32) (param $chunk i32) (param $counter i32)
    (local $nb i32) (local $jb0 i32) (local $jb1 i32)
    ;; pack_b (or pack_bt when trans != 0) with its panels claimed `chunk` at a time from the counter.
    (if (i32.le_s (local.get $chunk) (i32.const 0)) (then (return)))
    (local.set $nb (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (block $done
      (loop $chunks
        (local.set $jb0 (i32.mul (i32.atomic.rmw.add (local.get $counter) (i32.const 1)) (local.get $chunk)))
        (br_if $done (i32.ge_u (local.get $jb0) (local.get $nb)))
        (local.set $jb1 (i32.add (local.get $jb0) (local.get $chunk)))
        (if (i32.gt_u (local.get $jb1) (local.get $nb)) (then (local.set $jb1 (local.get $nb))))
        (if (local.get $trans)
          (then (call $pack_bt_range (local.get $src) (local.get $n) (local.get $k) (local.get $dst) (local.get $jb0) (local.get $jb1)))
          (else (call $pack_b_range (local.get $src) (local.get $k) (local.get $n) (local.get $dst) (local.get $jb0) (local.get $jb1))))
        (br $chunks))))
  ;; zero_pads(d, rows, lo, hi, ow) zeroes columns 0 .. lo and hi .. ow of `rows` rows of ow floats
  ;; at byte address d: the cells of a row of im2col's columns that read padding.
  (func $zero_pads (param $d i32) (param $rows i32) (param $lo i32) (param $hi i32) (param $ow i32)
    (local $ox i32)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.and (i32.eqz (local.get $lo)) (i32.ge_s (local.get $hi) (local.get $ow))))
      (then (return)))
    (loop $pads
      (local.set $ox (i32.const 0))
      (block $left
        (loop $zl
          (br_if $left (i32.ge_s (local.get $ox) (local.get $lo)))
          (f32.store (i32.add (local.get $d) (i32.shl (local.get $ox) (i32.const 2))) (f32.const 0))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $zl)))
      (local.set $ox (local.get $hi))
      (block $right
        (loop $zr
          (br_if $right (i32.ge_s (local.get $ox) (local.get $ow)))
          (f32.store (i32.add (local.get $d) (i32.shl (local.get $ox) (i32.const 2))) (f32.const 0))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $zr)))
      (local.set $d (i32.add (local.get $d) (i32.shl (local.get $ow) (i32.const 2))))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $pads (local.get $rows))))
  ;; block_rows(ph, ki, h, oh, lo, hi) -> (oy0, oy1): the output rows oy0 .. oy1 of a stride-1 row of
  ;; columns (kernel row ki, padding ph) that read input rows inside the [h, ...] image, none when
  ;; no column does (lo >= hi): the rows im2col and col2im move as one block.
  (func $block_rows (param $ph i32) (param $ki i32) (param $h i32) (param $oh i32) (param $lo i32) (param $hi i32) (result i32 i32)
    (local $oy0 i32) (local $oy1 i32)
    (local.set $oy0 (i32.sub (local.get $ph) (local.get $ki)))
    (if (i32.lt_s (local.get $oy0) (i32.const 0)) (then (local.set $oy0 (i32.const 0))))
    (if (i32.gt_s (local.get $oy0) (local.get $oh)) (then (local.set $oy0 (local.get $oh))))
    (local.set $oy1 (i32.sub (i32.add (local.get $h) (local.get $ph)) (local.get $ki)))
    (if (i32.gt_s (local.get $oy1) (local.get $oh)) (then (local.set $oy1 (local.get $oh))))
    (if (i32.lt_s (local.get $oy1) (local.get $oy0)) (then (local.set $oy1 (local.get $oy0))))
    (if (i32.ge_s (local.get $lo) (local.get $hi)) (then (local.set $oy1 (local.get $oy0))))
    (local.get $oy0)
    (local.get $oy1))
  (func $im2col (export "im2col")
    (param $x i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32)
    (param $dst i32) (param $ld i32)
    (local $ch i32) (local $ki i32) (local $kj i32) (local $oy i32) (local $ox i32) (local $iy i32) (local $t i32)
    (local $lo i32) (local $hi i32) (local $row i32) (local $d i32) (local $plane i32) (local $src i32)
    (local $ldb i32) (local $owb i32) (local $planeb i32) (local $oy0 i32) (local $oy1 i32) (local $p0 i32) (local $p1 i32) (local $line i32)
    (if (i32.or (i32.or (i32.eqz (local.get $c)) (i32.eqz (local.get $oh))) (i32.eqz (local.get $ow))) (then (return)))
    (local.set $line (i32.and (i32.and (i32.eq (local.get $sh) (i32.const 1)) (i32.eq (local.get $sw) (i32.const 1))) (i32.eq (local.get $ow) (local.get $w))))
    (local.set $ldb (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $owb (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $planeb (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $row (local.get $dst))
    (local.set $plane (local.get $x))
    (local.set $ch (i32.const 0))
    (loop $chs
      (local.set $ki (i32.const 0))
      (loop $kis
        (local.set $kj (i32.const 0))
        (loop $kjs
          ;; Output columns lo..hi read inside the image: ceil((pw - kj) / sw) .. floor((w - 1 + pw - kj) / sw) + 1.
          (local.set $t (i32.sub (local.get $pw) (local.get $kj)))
          (local.set $lo (i32.const 0))
          (if (i32.gt_s (local.get $t) (i32.const 0))
            (then (local.set $lo (i32.div_s (i32.add (local.get $t) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))))
          (if (i32.gt_s (local.get $lo) (local.get $ow)) (then (local.set $lo (local.get $ow))))
          (local.set $t (i32.add (i32.sub (local.get $w) (i32.const 1)) (local.get $t)))
          (local.set $hi (local.get $lo))
          (if (i32.ge_s (local.get $t) (i32.const 0))
            (then (local.set $hi (i32.add (i32.div_s (local.get $t) (local.get $sw)) (i32.const 1)))))
          (if (i32.gt_s (local.get $hi) (local.get $ow)) (then (local.set $hi (local.get $ow))))
          (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
          ;; Stride 1 with rows as wide as the image's (a 'same' convolution): the valid cells of this
          ;; row of columns, at p = oy*ow + ox, hold the input at p + (ki - ph)*w + (kj - pw), so they
          ;; are one block copy; the cells reading padding are then zeroed (a few a row).
          (if (local.get $line)
            (then
              (call $block_rows (local.get $ph) (local.get $ki) (local.get $h) (local.get $oh) (local.get $lo) (local.get $hi))
              (local.set $oy1)
              (local.set $oy0)
              (memory.fill (local.get $row) (i32.const 0) (i32.mul (local.get $oy0) (local.get $owb)))
              (memory.fill (i32.add (local.get $row) (i32.mul (local.get $oy1) (local.get $owb))) (i32.const 0)
                (i32.mul (i32.sub (local.get $oh) (local.get $oy1)) (local.get $owb)))
              (if (i32.gt_s (local.get $oy1) (local.get $oy0))
                (then
                  ;; p0 .. p1: from the first valid cell of row oy0 to the last of row oy1 - 1, so every
                  ;; read lies inside the plane.
                  (local.set $p0 (i32.add (i32.mul (local.get $oy0) (local.get $ow)) (local.get $lo)))
                  (local.set $p1 (i32.add (i32.mul (i32.sub (local.get $oy1) (i32.const 1)) (local.get $ow)) (local.get $hi)))
                  (memory.copy
                    (i32.add (local.get $row) (i32.shl (local.get $p0) (i32.const 2)))
                    (i32.add (local.get $plane) (i32.shl (i32.add (local.get $p0)
                      (i32.add (i32.mul (i32.sub (local.get $ki) (local.get $ph)) (local.get $w)) (i32.sub (local.get $kj) (local.get $pw)))) (i32.const 2)))
                    (i32.shl (i32.sub (local.get $p1) (local.get $p0)) (i32.const 2)))
                  ;; The padding columns of those rows.
                  (call $zero_pads (i32.add (local.get $row) (i32.mul (local.get $oy0) (local.get $owb)))
                    (i32.sub (local.get $oy1) (local.get $oy0)) (local.get $lo) (local.get $hi) (local.get $ow)))))
            (else
              (local.set $d (local.get $row))
              (local.set $oy (i32.const 0))
              (loop $oys
                (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $ph)) (local.get $ki)))
                (if (i32.ge_u (local.get $iy) (local.get $h))
                  (then (memory.fill (local.get $d) (i32.const 0) (local.get $owb)))
                  (else
                    ;; The few columns reading padding, one store each (memory.fill costs more for so few).
                    (call $zero_pads (local.get $d) (i32.const 1) (local.get $lo) (local.get $hi) (local.get $ow))
                    ;; src: the input cell of output column 0 on this row (may lie before the row; only lo..hi are read).
                    (local.set $src (i32.add (local.get $plane)
                      (i32.shl (i32.sub (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $kj)) (local.get $pw)) (i32.const 2))))
                    (local.set $ox (local.get $lo))
                    (if (i32.eq (local.get $sw) (i32.const 1))
                      (then
                        (block $done4
                          (loop $by4
                            (br_if $done4 (i32.gt_s (i32.add (local.get $ox) (i32.const 4)) (local.get $hi)))
                            (v128.store (i32.add (local.get $d) (i32.shl (local.get $ox) (i32.const 2)))
                              (v128.load (i32.add (local.get $src) (i32.shl (local.get $ox) (i32.const 2)))))
                            (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                            (br $by4)))))
                    (block $done
                      (loop $by1
                        (br_if $done (i32.ge_s (local.get $ox) (local.get $hi)))
                        (f32.store (i32.add (local.get $d) (i32.shl (local.get $ox) (i32.const 2)))
                          (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $ox) (local.get $sw)) (i32.const 2)))))
                        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                        (br $by1)))))
                (local.set $d (i32.add (local.get $d) (local.get $owb)))
                (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
                (br_if $oys (i32.lt_u (local.get $oy) (local.get $oh))))))
          (local.set $row (i32.add (local.get $row) (local.get $ldb)))
          (local.set $kj (i32.add (local.get $kj) (i32.const 1)))
          (br_if $kjs (i32.lt_u (local.get $kj) (local.get $kw))))
        (local.set $ki (i32.add (local.get $ki) (i32.const 1)))
        (br_if $kis (i32.lt_u (local.get $ki) (local.get $kh))))
      (local.set $plane (i32.add (local.get $plane) (local.get $planeb)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (br_if $chs (i32.lt_u (local.get $ch) (local.get $c)))))
  (func $col2im (export "col2im")
    (param $cols i32) (param $ld i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32) (param $dst i32)
    (local $ch i32) (local $ki i32) (local $kj i32) (local $oy i32) (local $ox i32) (local $iy i32) (local $t i32)
    (local $lo i32) (local $hi i32) (local $row i32) (local $s i32) (local $plane i32) (local $d i32) (local $a i32)
    (local $ldb i32) (local $owb i32) (local $planeb i32) (local $oy0 i32) (local $oy1 i32) (local $p0 i32) (local $p1 i32) (local $line i32)
    (if (i32.or (i32.or (i32.eqz (local.get $c)) (i32.eqz (local.get $oh))) (i32.eqz (local.get $ow))) (then (return)))
    (local.set $line (i32.and (i32.and (i32.eq (local.get $sh) (i32.const 1)) (i32.eq (local.get $sw) (i32.const 1))) (i32.eq (local.get $ow) (local.get $w))))
    (local.set $ldb (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $owb (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $planeb (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $row (local.get $cols))
    (local.set $plane (local.get $dst))
    (local.set $ch (i32.const 0))
    (loop $chs
      (local.set $ki (i32.const 0))
      (loop $kis
        (local.set $kj (i32.const 0))
        (loop $kjs
          ;; Output columns lo..hi read inside the image: ceil((pw - kj) / sw) .. floor((w - 1 + pw - kj) / sw) + 1.
          (local.set $t (i32.sub (local.get $pw) (local.get $kj)))
          (local.set $lo (i32.const 0))
          (if (i32.gt_s (local.get $t) (i32.const 0))
            (then (local.set $lo (i32.div_s (i32.add (local.get $t) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))))
          (if (i32.gt_s (local.get $lo) (local.get $ow)) (then (local.set $lo (local.get $ow))))
          (local.set $t (i32.add (i32.sub (local.get $w) (i32.const 1)) (local.get $t)))
          (local.set $hi (local.get $lo))
          (if (i32.ge_s (local.get $t) (i32.const 0))
            (then (local.set $hi (i32.add (i32.div_s (local.get $t) (local.get $sw)) (i32.const 1)))))
          (if (i32.gt_s (local.get $hi) (local.get $ow)) (then (local.set $hi (local.get $ow))))
          (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
          ;; Stride 1 with rows as wide as the image's: column p = oy*ow + ox of this row adds into the
          ;; image cell p + (ki - ph)*w + (kj - pw), so the rows reading inside the image are one block
          ;; added in place, once the cells reading padding are zeroed in cols (they would land on a
          ;; neighbouring row's cells; adding 0 leaves a sum's bits as they are, a sum never being -0).
          (if (local.get $line)
            (then
              (call $block_rows (local.get $ph) (local.get $ki) (local.get $h) (local.get $oh) (local.get $lo) (local.get $hi))
              (local.set $oy1)
              (local.set $oy0)
              (if (i32.gt_s (local.get $oy1) (local.get $oy0))
                (then
                  (local.set $p0 (i32.add (i32.mul (local.get $oy0) (local.get $ow)) (local.get $lo)))
                  (local.set $p1 (i32.add (i32.mul (i32.sub (local.get $oy1) (i32.const 1)) (local.get $ow)) (local.get $hi)))
                  ;; The padding cells inside p0 .. p1.
                  (call $zero_pads (i32.add (local.get $row) (i32.mul (local.get $oy0) (local.get $owb)))
                    (i32.sub (local.get $oy1) (local.get $oy0)) (local.get $lo) (local.get $hi) (local.get $ow))
                  ;; dst[p + delta] += cols[p] for p0 <= p < p1, four at a time, then one at a time.
                  (local.set $s (i32.add (local.get $row) (i32.shl (local.get $p0) (i32.const 2))))
                  (local.set $a (i32.add (local.get $plane) (i32.shl (i32.add (local.get $p0)
                    (i32.add (i32.mul (i32.sub (local.get $ki) (local.get $ph)) (local.get $w)) (i32.sub (local.get $kj) (local.get $pw)))) (i32.const 2))))
                  (local.set $t (i32.sub (local.get $p1) (local.get $p0)))
                  (block $done4
                    (loop $by4
                      (br_if $done4 (i32.lt_s (local.get $t) (i32.const 4)))
                      (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $s))))
                      (local.set $a (i32.add (local.get $a) (i32.const 16)))
                      (local.set $s (i32.add (local.get $s) (i32.const 16)))
                      (local.set $t (i32.sub (local.get $t) (i32.const 4)))
                      (br $by4)))
                  (block $done1
                    (loop $by1
                      (br_if $done1 (i32.le_s (local.get $t) (i32.const 0)))
                      (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32.load (local.get $s))))
                      (local.set $a (i32.add (local.get $a) (i32.const 4)))
                      (local.set $s (i32.add (local.get $s) (i32.const 4)))
                      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                      (br $by1))))))
            (else
              (local.set $s (local.get $row))
              (local.set $oy (i32.const 0))
              (loop $oys
                (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $ph)) (local.get $ki)))
                (if (i32.lt_u (local.get $iy) (local.get $h))
                  (then
                    ;; d: the image cell of output column 0 on this row (only lo..hi are touched).
                    (local.set $d (i32.add (local.get $plane)
                      (i32.shl (i32.sub (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $kj)) (local.get $pw)) (i32.const 2))))
                    (local.set $ox (local.get $lo))
                    (if (i32.eq (local.get $sw) (i32.const 1))
                      (then
                        (block $done4
                          (loop $by4
                            (br_if $done4 (i32.gt_s (i32.add (local.get $ox) (i32.const 4)) (local.get $hi)))
                            (local.set $a (i32.add (local.get $d) (i32.shl (local.get $ox) (i32.const 2))))
                            (v128.store (local.get $a)
                              (f32x4.add (v128.load (local.get $a)) (v128.load (i32.add (local.get $s) (i32.shl (local.get $ox) (i32.const 2))))))
                            (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                            (br $by4)))))
                    (block $done
                      (loop $by1
                        (br_if $done (i32.ge_s (local.get $ox) (local.get $hi)))
                        (local.set $a (i32.add (local.get $d) (i32.shl (i32.mul (local.get $ox) (local.get $sw)) (i32.const 2))))
                        (f32.store (local.get $a)
                          (f32.add (f32.load (local.get $a)) (f32.load (i32.add (local.get $s) (i32.shl (local.get $ox) (i32.const 2))))))
                        (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                        (br $by1)))))
                (local.set $s (i32.add (local.get $s) (local.get $owb)))
                (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
                (br_if $oys (i32.lt_u (local.get $oy) (local.get $oh))))))
          (local.set $row (i32.add (local.get $row) (local.get $ldb)))
          (local.set $kj (i32.add (local.get $kj) (i32.const 1)))
          (br_if $kjs (i32.lt_u (local.get $kj) (local.get $kw))))
        (local.set $ki (i32.add (local.get $ki) (i32.const 1)))
        (br_if $kis (i32.lt_u (local.get $ki) (local.get $kh))))
      (local.set $plane (i32.add (local.get $plane) (local.get $planeb)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (br_if $chs (i32.lt_u (local.get $ch) (local.get $c)))))
  (func $im2col_batch
    (param $x i32) (param $n i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32)
    (param $dst i32) (param $ld i32)
    (local $imgb i32) (local $pb i32)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $imgb (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)) (i32.const 2)))
    (local.set $pb (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2)))
    (loop $imgs
      (call $im2col (local.get $x) (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw)
        (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw) (local.get $oh) (local.get $ow) (local.get $dst) (local.get $ld))
      (local.set $x (i32.add (local.get $x) (local.get $imgb)))
      (local.set $dst (i32.add (local.get $dst) (local.get $pb)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $imgs (local.get $n))))
  (func $col2im_batch
    (param $cols i32) (param $ld i32) (param $n i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32) (param $dst i32)
    (local $imgb i32) (local $pb i32)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $imgb (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)) (i32.const 2)))
    (local.set $pb (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (local.get $imgb) (local.get $n)))
    (loop $imgs
      (call $col2im (local.get $cols) (local.get $ld) (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw)
        (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw) (local.get $oh) (local.get $ow) (local.get $dst))
      (local.set $cols (i32.add (local.get $cols) (local.get $pb)))
      (local.set $dst (i32.add (local.get $dst) (local.get $imgb)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $imgs (local.get $n))))
  (func (export "col_sum") (param $x i32) (param $acc i32) (param $rows i32) (param $inner i32) (param $zero i32)
    ;; The column sums of x [rows, inner] (float32, inner even, rows a multiple of 4) added into acc
    ;; [inner] (float64; zeroed first when zero != 0): four rows at a time as ((((acc + r0) + r1) + r2)
    ;; + r3), two columns a lane pair: the order of reduce.ts sumF32, so the same bits (the caller adds
    ;; a last one to three rows itself).
    (local $stride i32) (local $r i32) (local $j i32) (local $p i32) (local $q i32) (local $a v128)
    (local.set $stride (i32.shl (local.get $inner) (i32.const 2)))
    (if (local.get $zero) (then (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $inner) (i32.const 3)))))
    (local.set $r (i32.const 0))
    (block $d4
      (loop $l4
        (br_if $d4 (i32.gt_s (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $p (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $stride))))
        (local.set $q (local.get $acc))
        (local.set $j (i32.const 0))
        (loop $c4
          (local.set $a (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))))
          (local.set $a (f64x2.add (local.get $a) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $stride))))))
          (local.set $a (f64x2.add (local.get $a) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 1)))))))
          (local.set $a (f64x2.add (local.get $a) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (i32.mul (local.get $stride) (i32.const 3)))))))
          (v128.store (local.get $q) (local.get $a))
          (local.set $p (i32.add (local.get $p) (i32.const 8)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))
          (br_if $c4 (i32.lt_u (local.get $j) (local.get $inner))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $l4))))
  (func $transpose_batch
    (param $src i32) (param $n i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32) (param $step i32)
    (local $srcb i32) (local $stepb i32)
    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $srcb (i32.shl (i32.mul (local.get $rows) (local.get $cols)) (i32.const 2)))
    (local.set $stepb (i32.shl (local.get $step) (i32.const 2)))
    (loop $mats
      (call $transpose (local.get $src) (local.get $rows) (local.get $cols) (local.get $dst) (local.get $ldd))
      (local.set $src (i32.add (local.get $src) (local.get $srcb)))
      (local.set $dst (i32.add (local.get $dst) (local.get $stepb)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $mats (local.get $n))))
  (func $wide_rows (param $src i32) (param $n i32) (param $rows i32) (param $p i32) (param $dst i32) (param $ld i32)
    (local $r i32) (local $b i32) (local $pb i32) (local $d i32) (local $s i32)
    (if (i32.or (i32.le_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $rows) (i32.const 0))) (then (return)))
    (local.set $pb (i32.shl (local.get $p) (i32.const 2)))
    (local.set $r (i32.const 0))
    (loop $rs
      (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $r) (local.get $ld)) (i32.const 2))))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $pb))))
      (local.set $b (local.get $n))
      (loop $bs
        (memory.copy (local.get $d) (local.get $s) (local.get $pb))
        (local.set $d (i32.add (local.get $d) (local.get $pb)))
        (local.set $s (i32.add (local.get $s) (i32.mul (local.get $rows) (local.get $pb))))
        (local.set $b (i32.sub (local.get $b) (i32.const 1)))
        (br_if $bs (local.get $b)))
      (memory.fill (local.get $d) (i32.const 0) (i32.shl (i32.sub (local.get $ld) (i32.mul (local.get $n) (local.get $p))) (i32.const 2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rs (i32.lt_u (local.get $r) (local.get $rows)))))
  (func $conv_fwd
    (param $x i32) (param $n i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32)
    (param $wgt i32) (param $mp i32) (param $bias i32) (param $outC i32) (param $out i32) (param $cols i32) (param $cbuf i32) (param $g i32) (param $counter i32)
    (local $gi i32) (local $K i32) (local $P i32) (local $imgb i32) (local $b0 i32) (local $cnt i32) (local $N i32) (local $np i32)
    (local $r i32) (local $o i32) (local $b i32) (local $src i32) (local $dst i32) (local $i i32) (local $bv v128) (local $bs f32)
    (if (i32.or (i32.le_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $g) (i32.const 0))) (then (return)))
    (local.set $K (i32.mul (i32.mul (local.get $c) (local.get $kh)) (local.get $kw)))
    (local.set $P (i32.mul (local.get $oh) (local.get $ow)))
    (local.set $imgb (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)) (i32.const 2)))
    ;; Groups are claimed one at a time from the shared counter, so a thread that runs slower
    ;; (or starts later) simply takes fewer; each group's results do not depend on who computes it.
    (block $done
    (loop $groups
      (local.set $gi (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $b0 (i32.mul (local.get $gi) (local.get $g)))
      (br_if $done (i32.ge_u (local.get $b0) (local.get $n)))
      (local.set $cnt (i32.sub (local.get $n) (local.get $b0)))
      (if (i32.gt_s (local.get $cnt) (local.get $g)) (then (local.set $cnt (local.get $g))))
      (local.set $N (i32.mul (local.get $cnt) (local.get $P)))
      (local.set $np (i32.and (i32.add (local.get $N) (i32.const 7)) (i32.const -8)))
      (call $im2col_batch (i32.add (local.get $x) (i32.mul (local.get $b0) (local.get $imgb))) (local.get $cnt)
        (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw)
        (local.get $ph) (local.get $pw) (local.get $oh) (local.get $ow) (local.get $cols) (local.get $np))
      (if (i32.ne (local.get $np) (local.get $N))
        (then
          (local.set $r (i32.const 0))
          (loop $pads
            (memory.fill (i32.add (local.get $cols) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $np)) (local.get $N)) (i32.const 2)))
              (i32.const 0) (i32.shl (i32.sub (local.get $np) (local.get $N)) (i32.const 2)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $pads (i32.lt_u (local.get $r) (local.get $K))))))
      (call $gemm_blocked (local.get $wgt) (local.get $cols) (local.get $cbuf) (local.get $mp) (local.get $K) (local.get $np)
        (i32.const 0) (i32.shr_u (local.get $np) (i32.const 3)) (i32.const 256) (i32.const 128) (i32.const 0) (i32.const 0))
      ;; Row o of the product, image b: P values to out [b0 + b, o], plus the bias.
      (local.set $o (i32.const 0))
      (loop $rows
        (local.set $bs (f32.const 0))
        (if (local.get $bias) (then (local.set $bs (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
        (local.set $bv (f32x4.splat (local.get $bs)))
        (local.set $b (i32.const 0))
        (loop $imgs
          (local.set $src (i32.add (local.get $cbuf) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $np)) (i32.mul (local.get $b) (local.get $P))) (i32.const 2))))
          (local.set $dst (i32.add (local.get $out)
            (i32.shl (i32.mul (i32.add (i32.mul (i32.add (local.get $b0) (local.get $b)) (local.get $outC)) (local.get $o)) (local.get $P)) (i32.const 2))))
          (if (local.get $bias)
            (then
              (local.set $i (i32.const 0))
              (block $d4
                (loop $by4
                  (br_if $d4 (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $P)))
                  (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
                    (f32x4.add (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))) (local.get $bv)))
                  (local.set $i (i32.add (local.get $i) (i32.const 4)))
                  (br $by4)))
              (block $d1
                (loop $by1
                  (br_if $d1 (i32.ge_s (local.get $i) (local.get $P)))
                  (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
                    (f32.add (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))) (local.get $bs)))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $by1))))
            (else (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $P) (i32.const 2)))))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $imgs (i32.lt_u (local.get $b) (local.get $cnt))))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $o) (local.get $outC))))
      (br $groups))))
  (func $conv_bwd_w
    (param $x i32) (param $n i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32)
    (param $dy i32) (param $outC i32) (param $kp i32) (param $op i32) (param $ones i32) (param $cols i32) (param $dyt i32) (param $acc i32) (param $g i32) (param $counter i32)
    (local $gi i32) (local $K i32) (local $P i32) (local $imgb i32) (local $b0 i32) (local $cnt i32) (local $N i32) (local $i i32) (local $a i32)
    (if (i32.or (i32.le_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $g) (i32.const 0))) (then (return)))
    (local.set $K (i32.mul (i32.mul (local.get $c) (local.get $kh)) (local.get $kw)))
    (local.set $P (i32.mul (local.get $oh) (local.get $ow)))
    (local.set $imgb (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)) (i32.const 2)))
    ;; Groups are claimed one at a time from the shared counter, so a thread that runs slower
    ;; (or starts later) simply takes fewer; each group's results do not depend on who computes it.
    (block $done
    (loop $groups
      (local.set $gi (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $b0 (i32.mul (local.get $gi) (local.get $g)))
      (br_if $done (i32.ge_u (local.get $b0) (local.get $n)))
      (local.set $cnt (i32.sub (local.get $n) (local.get $b0)))
      (if (i32.gt_s (local.get $cnt) (local.get $g)) (then (local.set $cnt (local.get $g))))
      (local.set $N (i32.mul (local.get $cnt) (local.get $P)))
      (call $im2col_batch (i32.add (local.get $x) (i32.mul (local.get $b0) (local.get $imgb))) (local.get $cnt)
        (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw)
        (local.get $ph) (local.get $pw) (local.get $oh) (local.get $ow) (local.get $cols) (local.get $N))
      ;; Rows K..kp: zeros, or ones in row K for the bias.
      (memory.fill (i32.add (local.get $cols) (i32.shl (i32.mul (local.get $K) (local.get $N)) (i32.const 2)))
        (i32.const 0) (i32.shl (i32.mul (i32.sub (local.get $kp) (local.get $K)) (local.get $N)) (i32.const 2)))
      (if (local.get $ones)
        (then
          (local.set $a (i32.add (local.get $cols) (i32.shl (i32.mul (local.get $K) (local.get $N)) (i32.const 2))))
          (local.set $i (local.get $N))
          (loop $fill1
            (f32.store (local.get $a) (f32.const 1))
            (local.set $a (i32.add (local.get $a) (i32.const 4)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $fill1 (local.get $i)))))
      (if (i32.ne (local.get $op) (local.get $outC))
        (then (memory.fill (local.get $dyt) (i32.const 0) (i32.shl (i32.mul (local.get $N) (local.get $op)) (i32.const 2)))))
      (call $transpose_batch (i32.add (local.get $dy) (i32.shl (i32.mul (i32.mul (local.get $b0) (local.get $outC)) (local.get $P)) (i32.const 2)))
        (local.get $cnt) (local.get $outC) (local.get $P) (local.get $dyt) (local.get $op) (i32.mul (local.get $P) (local.get $op)))
      (call $gemm_blocked (local.get $cols) (local.get $dyt)
        (i32.add (local.get $acc) (i32.shl (i32.mul (local.get $gi) (i32.mul (local.get $kp) (local.get $op))) (i32.const 2)))
        (local.get $kp) (local.get $N) (local.get $op)
        (i32.const 0) (i32.shr_u (local.get $op) (i32.const 3)) (i32.const 256) (i32.const 128) (i32.const 0) (i32.const 0))
      (br $groups))))
  (func $conv_bwd_x
    (param $dy i32) (param $n i32) (param $outC i32) (param $wt i32) (param $kp i32) (param $dyw i32) (param $dcol i32) (param $dx i32) (param $g i32) (param $counter i32)
    (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $oh i32) (param $ow i32)
    (local $gi i32) (local $P i32) (local $imgb i32) (local $b0 i32) (local $cnt i32) (local $N i32) (local $np i32)
    (if (i32.or (i32.le_s (local.get $n) (i32.const 0)) (i32.le_s (local.get $g) (i32.const 0))) (then (return)))
    (local.set $P (i32.mul (local.get $oh) (local.get $ow)))
    (local.set $imgb (i32.shl (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)) (i32.const 2)))
    ;; Groups are claimed one at a time from the shared counter, so a thread that runs slower
    ;; (or starts later) simply takes fewer; each group's results do not depend on who computes it.
    (block $done
    (loop $groups
      (local.set $gi (i32.atomic.rmw.add (local.get $counter) (i32.const 1)))
      (local.set $b0 (i32.mul (local.get $gi) (local.get $g)))
      (br_if $done (i32.ge_u (local.get $b0) (local.get $n)))
      (local.set $cnt (i32.sub (local.get $n) (local.get $b0)))
      (if (i32.gt_s (local.get $cnt) (local.get $g)) (then (local.set $cnt (local.get $g))))
      (local.set $N (i32.mul (local.get $cnt) (local.get $P)))
      (local.set $np (i32.and (i32.add (local.get $N) (i32.const 7)) (i32.const -8)))
      (call $wide_rows (i32.add (local.get $dy) (i32.shl (i32.mul (i32.mul (local.get $b0) (local.get $outC)) (local.get $P)) (i32.const 2)))
        (local.get $cnt) (local.get $outC) (local.get $P) (local.get $dyw) (local.get $np))
      (call $gemm_blocked (local.get $wt) (local.get $dyw) (local.get $dcol) (local.get $kp) (local.get $outC) (local.get $np)
        (i32.const 0) (i32.shr_u (local.get $np) (i32.const 3)) (i32.const 256) (i32.const 128) (i32.const 0) (i32.const 0))
      (call $col2im_batch (local.get $dcol) (local.get $np) (local.get $cnt) (local.get $c) (local.get $h) (local.get $w)
        (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw) (local.get $oh) (local.get $ow)
        (i32.add (local.get $dx) (i32.mul (local.get $b0) (local.get $imgb))))
      (br $groups))))
  ;; relu_if(v, on): relu(v) as the relu kernel takes it (v <= 0 ? 0 : v, NaN stays NaN) when on != 0, else v.
  (func $relu_if (param $v f32) (param $on i32) (result f32)
    (select (select (f32.const 0) (local.get $v) (f32.le (local.get $v) (f32.const 0))) (local.get $v) (local.get $on)))
  (func $maxpool2x2
    (param $x i32) (param $planes i32) (param $h i32) (param $w i32) (param $oh i32) (param $ow i32)
    (param $vals i32) (param $idx i32) (param $first i32) (param $relu i32)
    (local $pl i32) (local $oy i32) (local $ox i32) (local $i0 i32) (local $i1 i32) (local $bi i32) (local $take i32)
    (local $best f32) (local $v f32) (local $base i32)
    (local $r0a v128) (local $r0b v128) (local $r1a v128) (local $r1b v128) (local $vb v128) (local $vi v128) (local $vt v128)
    (local $ia v128) (local $wv v128) (local $back i32)
    (if (i32.or (i32.or (i32.eqz (local.get $planes)) (i32.eqz (local.get $oh))) (i32.eqz (local.get $ow))) (then (return)))
    (local.set $wv (i32x4.splat (local.get $w)))
    (local.set $base (i32.mul (i32.mul (local.get $first) (local.get $h)) (local.get $w)))
    (local.set $pl (local.get $planes))
    (loop $pls
      (local.set $oy (i32.const 0))
      (loop $oys
        ;; i0, i1: flat indices of the window's two rows at output column ox.
        (local.set $i0 (i32.add (local.get $base) (i32.mul (i32.shl (local.get $oy) (i32.const 1)) (local.get $w))))
        (local.set $i1 (i32.add (local.get $i0) (local.get $w)))
        (local.set $ox (i32.const 0))
        ;; Four windows at a time: even lanes of two loads are the windows' left cells, odd lanes the right.
        ;; A row's last one to three windows (when it has at least four) are the last four again,
        ;; moved back to end at the row's end: the windows done twice get the same values twice.
        (block $vdone
          (loop $vec
            (if (i32.gt_s (i32.add (local.get $ox) (i32.const 4)) (local.get $ow))
              (then
                (br_if $vdone (i32.or (i32.ge_s (local.get $ox) (local.get $ow)) (i32.lt_s (local.get $ow) (i32.const 4))))
                ;; back: windows to step back, so that this turn covers ow-4 .. ow-1.
                (local.set $back (i32.sub (local.get $ox) (i32.sub (local.get $ow) (i32.const 4))))
                (local.set $i0 (i32.sub (local.get $i0) (i32.shl (local.get $back) (i32.const 1))))
                (local.set $i1 (i32.sub (local.get $i1) (i32.shl (local.get $back) (i32.const 1))))
                (local.set $vals (i32.sub (local.get $vals) (i32.shl (local.get $back) (i32.const 2))))
                (local.set $idx (i32.sub (local.get $idx) (i32.shl (local.get $back) (i32.const 2))))
                (local.set $ox (i32.sub (local.get $ow) (i32.const 4)))))
            (local.set $r0a (v128.load (i32.add (local.get $x) (i32.shl (local.get $i0) (i32.const 2)))))
            (local.set $r0b (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $i0) (i32.const 2)))))
            (local.set $r1a (v128.load (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 2)))))
            (local.set $r1b (v128.load offset=16 (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 2)))))
            (if (local.get $relu)
              (then
                (local.set $r0a (v128.andnot (local.get $r0a) (f32x4.le (local.get $r0a) (v128.const f32x4 0 0 0 0))))
                (local.set $r0b (v128.andnot (local.get $r0b) (f32x4.le (local.get $r0b) (v128.const f32x4 0 0 0 0))))
                (local.set $r1a (v128.andnot (local.get $r1a) (f32x4.le (local.get $r1a) (v128.const f32x4 0 0 0 0))))
                (local.set $r1b (v128.andnot (local.get $r1b) (f32x4.le (local.get $r1b) (v128.const f32x4 0 0 0 0))))))
            (local.set $ia (i32x4.add (i32x4.splat (local.get $i0)) (v128.const i32x4 0 2 4 6)))
            (local.set $vb (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r0a) (local.get $r0b)))
            (local.set $vi (local.get $ia))
            (local.set $vt (v128.or (f32x4.gt (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0a) (local.get $r0b)) (local.get $vb))
              (v128.and (f32x4.ne (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0a) (local.get $r0b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0a) (local.get $r0b))) (f32x4.eq (local.get $vb) (local.get $vb)))))
            (local.set $vb (v128.bitselect (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r0a) (local.get $r0b)) (local.get $vb) (local.get $vt)))
            (local.set $vi (v128.bitselect (i32x4.add (local.get $ia) (v128.const i32x4 1 1 1 1)) (local.get $vi) (local.get $vt)))
            (local.set $vt (v128.or (f32x4.gt (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r1a) (local.get $r1b)) (local.get $vb))
              (v128.and (f32x4.ne (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r1a) (local.get $r1b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r1a) (local.get $r1b))) (f32x4.eq (local.get $vb) (local.get $vb)))))
            (local.set $vb (v128.bitselect (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $r1a) (local.get $r1b)) (local.get $vb) (local.get $vt)))
            (local.set $vi (v128.bitselect (i32x4.add (local.get $ia) (local.get $wv)) (local.get $vi) (local.get $vt)))
            (local.set $vt (v128.or (f32x4.gt (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r1a) (local.get $r1b)) (local.get $vb))
              (v128.and (f32x4.ne (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r1a) (local.get $r1b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r1a) (local.get $r1b))) (f32x4.eq (local.get $vb) (local.get $vb)))))
            (local.set $vb (v128.bitselect (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $r1a) (local.get $r1b)) (local.get $vb) (local.get $vt)))
            (local.set $vi (v128.bitselect (i32x4.add (i32x4.add (local.get $ia) (local.get $wv)) (v128.const i32x4 1 1 1 1)) (local.get $vi) (local.get $vt)))
            (v128.store (local.get $vals) (local.get $vb))
            (v128.store (local.get $idx) (local.get $vi))
            (local.set $vals (i32.add (local.get $vals) (i32.const 16)))
            (local.set $idx (i32.add (local.get $idx) (i32.const 16)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 8)))
            (local.set $i1 (i32.add (local.get $i1) (i32.const 8)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
            (br $vec)))
        (block $sdone
          (loop $oxs
            (br_if $sdone (i32.ge_s (local.get $ox) (local.get $ow)))
          (local.set $bi (local.get $i0))
          (local.set $best (call $relu_if (f32.load (i32.add (local.get $x) (i32.shl (local.get $i0) (i32.const 2)))) (local.get $relu)))
          ;; take v when v > best, or v is NaN and best is not.
          (local.set $v (call $relu_if (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $i0) (i32.const 2)))) (local.get $relu)))
          (local.set $take (i32.or (f32.gt (local.get $v) (local.get $best))
            (i32.and (f32.ne (local.get $v) (local.get $v)) (f32.eq (local.get $best) (local.get $best)))))
          (local.set $best (select (local.get $v) (local.get $best) (local.get $take)))
          (local.set $bi (select (i32.add (local.get $i0) (i32.const 1)) (local.get $bi) (local.get $take)))
          (local.set $v (call $relu_if (f32.load (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 2)))) (local.get $relu)))
          (local.set $take (i32.or (f32.gt (local.get $v) (local.get $best))
            (i32.and (f32.ne (local.get $v) (local.get $v)) (f32.eq (local.get $best) (local.get $best)))))
          (local.set $best (select (local.get $v) (local.get $best) (local.get $take)))
          (local.set $bi (select (local.get $i1) (local.get $bi) (local.get $take)))
          (local.set $v (call $relu_if (f32.load offset=4 (i32.add (local.get $x) (i32.shl (local.get $i1) (i32.const 2)))) (local.get $relu)))
          (local.set $take (i32.or (f32.gt (local.get $v) (local.get $best))
            (i32.and (f32.ne (local.get $v) (local.get $v)) (f32.eq (local.get $best) (local.get $best)))))
          (local.set $best (select (local.get $v) (local.get $best) (local.get $take)))
          (local.set $bi (select (i32.add (local.get $i1) (i32.const 1)) (local.get $bi) (local.get $take)))
          (f32.store (local.get $vals) (local.get $best))
          (i32.store (local.get $idx) (local.get $bi))
          (local.set $vals (i32.add (local.get $vals) (i32.const 4)))
          (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
          (local.set $i0 (i32.add (local.get $i0) (i32.const 2)))
          (local.set $i1 (i32.add (local.get $i1) (i32.const 2)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $oxs)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $oys (i32.lt_u (local.get $oy) (local.get $oh))))
      (local.set $base (i32.add (local.get $base) (i32.mul (local.get $h) (local.get $w))))
      (local.set $pl (i32.sub (local.get $pl) (i32.const 1)))
      (br_if $pls (local.get $pl))))
  (func $unpool
    (param $dy i32) (param $vals i32) (param $idx i32) (param $planes i32) (param $h i32) (param $w i32)
    (param $oh i32) (param $ow i32) (param $dst i32) (param $shift i32) (param $first i32)
    (local $pl i32) (local $oy i32) (local $ox i32) (local $r0 i32) (local $r1 i32) (local $k i32)
    (local $end i32) (local $wb i32) (local $base i32) (local $at i32)
    (if (i32.or (i32.or (i32.le_s (local.get $planes) (i32.const 0)) (i32.eqz (local.get $oh))) (i32.eqz (local.get $ow)))
      (then (return)))
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (local.set $end (i32.shl (local.get $ow) (i32.const 3)))
    (local.set $base (i32.add (local.get $dst) (i32.shl (i32.mul (i32.mul (local.get $first) (local.get $h)) (local.get $w)) (i32.const 2))))
    (local.set $dst (i32.sub (local.get $dst) (i32.shl (local.get $shift) (i32.const 2))))
    (local.set $pl (local.get $planes))
    (loop $pls
      (local.set $oy (i32.const 0))
      (loop $oys
        ;; The two rows of this row of windows: their 2*ow cells zeroed, four at a time.
        (local.set $r0 (i32.add (local.get $base) (i32.mul (i32.shl (local.get $oy) (i32.const 1)) (local.get $wb))))
        (local.set $r1 (i32.add (local.get $r0) (local.get $wb)))
        (local.set $k (i32.const 0))
        (block $zeroed
          (loop $zero
            (br_if $zeroed (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $end)))
            (v128.store (i32.add (local.get $r0) (local.get $k)) (v128.const i32x4 0 0 0 0))
            (v128.store (i32.add (local.get $r1) (local.get $k)) (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $zero)))
        (if (i32.lt_u (local.get $k) (local.get $end))
          (then
            (i64.store (i32.add (local.get $r0) (local.get $k)) (i64.const 0))
            (i64.store (i32.add (local.get $r1) (local.get $k)) (i64.const 0))))
        ;; Then each window's gradient at its maximum: 0 + (dy where the pooled value is positive, else 0).
        (local.set $ox (local.get $ow))
        (loop $oxs
          (local.set $at (i32.add (local.get $dst) (i32.shl (i32.load (local.get $idx)) (i32.const 2))))
          (f32.store (local.get $at)
            (f32.add (f32.const 0) (select (f32.const 0) (f32.load (local.get $dy)) (f32.le (f32.load (local.get $vals)) (f32.const 0)))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
          (local.set $vals (i32.add (local.get $vals) (i32.const 4)))
          (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
          (local.set $ox (i32.sub (local.get $ox) (i32.const 1)))
          (br_if $oxs (local.get $ox)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br_if $oys (i32.lt_u (local.get $oy) (local.get $oh))))
      (local.set $base (i32.add (local.get $base) (i32.mul (local.get $h) (local.get $wb))))
      (local.set $pl (i32.sub (local.get $pl) (i32.const 1)))
      (br_if $pls (local.get $pl))))
  ;; bias_rows(c, bias, rows, np, relu) adds bias [np] to each of the rows of C [rows, np] in place
  ;; (np a multiple of 4), then takes relu (v <= 0 ? 0 : v: NaN stays NaN, as in PyTorch and the
  ;; TypeScript epilogue) when relu != 0: a linear layer's bias and activation before C is copied out.
  (func (export "bias_rows") (param $c i32) (param $bias i32) (param $rows i32) (param $np i32) (param $relu i32)
    (local $j i32) (local $bj i32) (local $v v128)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $np) (i32.const 0))) (then (return)))
    (loop $rowsLoop
      (local.set $j (i32.const 0))
      (local.set $bj (local.get $bias))
      (loop $cols
        (local.set $v (f32x4.add (v128.load (local.get $c)) (v128.load (local.get $bj))))
        (if (local.get $relu) (then (local.set $v (v128.andnot (local.get $v) (f32x4.le (local.get $v) (v128.const f32x4 0 0 0 0))))))
        (v128.store (local.get $c) (local.get $v))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (local.set $bj (i32.add (local.get $bj) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $np))))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rowsLoop (local.get $rows))))
  ;; lanes4(a, b): a row's four running sums, held in two f64x2, added as (a0 + a1) + (b0 + b1).
  (func $lanes4 (param $a v128) (param $b v128) (result f64)
    (f64.add (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
      (f64.add (f64x2.extract_lane 0 (local.get $b)) (f64x2.extract_lane 1 (local.get $b)))))
  ;; layer_norm(x, w, b, o, mean, rstd, rows, cols, eps): layer normalisation of each row of
  ;; x [rows, cols] into o, the float64 steps of cpu/layer-norm.ts in its order: the row's sum and
  ;; sum of squared deviations in four running sums (columns j % 4 = 0 .. 3: the lanes of two f64x2,
  ;; so four chains of additions overlap; a last pair of columns goes to the first two, a last
  ;; column to the first; added by $lanes4),
  ;; rstd = 1 / sqrt(var + eps), then ((x - mean) * rstd) * w + b (w and b [cols]; ones and zeros
  ;; stand in for a missing weight or bias), stored as float32, with each row's mean and rstd.
  (func (export "layer_norm")
    (param $x i32) (param $w i32) (param $b i32) (param $o i32) (param $mean i32) (param $rstd i32)
    (param $rows i32) (param $cols i32) (param $eps f64)
    (local $j i32) (local $xr i32) (local $acc v128) (local $acc2 v128) (local $d v128) (local $d2 v128) (local $m f64) (local $r f64) (local $n f64)
    (local $mv v128) (local $rv v128) (local $t f64)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $cols) (i32.const 0))) (then (return)))
    (local.set $n (f64.convert_i32_u (local.get $cols)))
    (loop $rowsLoop
      ;; The mean.
      (local.set $acc (v128.const f64x2 0 0))
      (local.set $acc2 (v128.const f64x2 0 0))
      (local.set $j (i32.const 0))
      (local.set $xr (local.get $x))
      (block $done1 (loop $quads1
        (br_if $done1 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $xr)))))
        (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $xr)))))
        (local.set $xr (i32.add (local.get $xr) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quads1)))
      (if (i32.le_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols))
        (then
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $xr)))))
          (local.set $xr (i32.add (local.get $xr) (i32.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))))
      (if (i32.lt_u (local.get $j) (local.get $cols))
        (then (local.set $acc (f64x2.replace_lane 0 (local.get $acc)
          (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64.promote_f32 (f32.load (local.get $xr))))))))
      (local.set $m (f64.div (call $lanes4 (local.get $acc) (local.get $acc2)) (local.get $n)))
      (local.set $mv (f64x2.splat (local.get $m)))
      ;; The variance.
      (local.set $acc (v128.const f64x2 0 0))
      (local.set $acc2 (v128.const f64x2 0 0))
      (local.set $j (i32.const 0))
      (local.set $xr (local.get $x))
      (block $done2 (loop $quads2
        (br_if $done2 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $xr))) (local.get $mv)))
        (local.set $d2 (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $xr))) (local.get $mv)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (local.get $d2) (local.get $d2))))
        (local.set $xr (i32.add (local.get $xr) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quads2)))
      (if (i32.le_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols))
        (then
          (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $xr))) (local.get $mv)))
          (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $d) (local.get $d))))
          (local.set $xr (i32.add (local.get $xr) (i32.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))))
      (if (i32.lt_u (local.get $j) (local.get $cols))
        (then
          (local.set $t (f64.sub (f64.promote_f32 (f32.load (local.get $xr))) (local.get $m)))
          (local.set $acc (f64x2.replace_lane 0 (local.get $acc)
            (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64.mul (local.get $t) (local.get $t)))))))
      (local.set $r (f64.div (f64.const 1)
        (f64.sqrt (f64.add (f64.div (call $lanes4 (local.get $acc) (local.get $acc2)) (local.get $n))
          (local.get $eps)))))
      (local.set $rv (f64x2.splat (local.get $r)))
      (f32.store (local.get $mean) (f32.demote_f64 (local.get $m)))
      (f32.store (local.get $rstd) (f32.demote_f64 (local.get $r)))
      ;; The output: ((x - mean) * rstd) * w + b.
      (local.set $j (i32.const 0))
      (local.set $xr (i32.const 0))
      (block $done3 (loop $pairs3
        (br_if $done3 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols)))
        (v128.store64_lane 0 (i32.add (local.get $o) (local.get $xr))
          (f32x4.demote_f64x2_zero
            (f64x2.add
              (f64x2.mul
                (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $xr)))) (local.get $mv)) (local.get $rv))
                (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $xr)))))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $b) (local.get $xr)))))))
        (local.set $xr (i32.add (local.get $xr) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs3)))
      (if (i32.lt_u (local.get $j) (local.get $cols))
        (then
          (f32.store (i32.add (local.get $o) (local.get $xr))
            (f32.demote_f64
              (f64.add
                (f64.mul
                  (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $xr)))) (local.get $m)) (local.get $r))
                  (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $xr)))))
                (f64.promote_f32 (f32.load (i32.add (local.get $b) (local.get $xr)))))))))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $o (i32.add (local.get $o) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $mean (i32.add (local.get $mean) (i32.const 4)))
      (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rowsLoop (local.get $rows))))
  ;; layer_norm_bwd(dy, x, w, mean, rstd, dx, dw, db, rows, cols, needs): the gradients of
  ;; layer_norm from the saved float32 means and rstds, the float64 steps of cpu/layer-norm.ts in its
  ;; order. With g = dy * w (w ones when there is no weight): dx = rstd * (g - mean(g)) -
  ;; ((x - mean) * mean(g * (x - mean)) * rstd) * rstd, stored as float32 (needs bit 0); dw [cols]
  ;; and db [cols] (float64, added to) get (dy * (x - mean)) * rstd and dy (needs bits 1 and 2).
  (func (export "layer_norm_bwd")
    (param $dy i32) (param $x i32) (param $w i32) (param $mean i32) (param $rstd i32) (param $dx i32)
    (param $dw i32) (param $db i32) (param $rows i32) (param $cols i32) (param $needs i32)
    (local $j i32) (local $q i32) (local $sg v128) (local $sx v128) (local $sg2 v128) (local $sx2 v128) (local $g2 v128) (local $g v128) (local $xm v128) (local $dyv v128)
    (local $m f64) (local $r f64) (local $n f64) (local $mg v128) (local $mgx v128) (local $mv v128) (local $rv v128)
    (local $gs f64) (local $xs f64) (local $dys f64)
    (if (i32.or (i32.le_s (local.get $rows) (i32.const 0)) (i32.le_s (local.get $cols) (i32.const 0))) (then (return)))
    (local.set $n (f64.convert_i32_u (local.get $cols)))
    (loop $rowsLoop
      (local.set $m (f64.promote_f32 (f32.load (local.get $mean))))
      (local.set $r (f64.promote_f32 (f32.load (local.get $rstd))))
      (local.set $mv (f64x2.splat (local.get $m)))
      (local.set $rv (f64x2.splat (local.get $r)))
      (if (i32.and (local.get $needs) (i32.const 1))
        (then
          (local.set $sg (v128.const f64x2 0 0))
          (local.set $sx (v128.const f64x2 0 0))
          (local.set $sg2 (v128.const f64x2 0 0))
          (local.set $sx2 (v128.const f64x2 0 0))
          (local.set $j (i32.const 0))
          (local.set $q (i32.const 0))
          (block $done0 (loop $quads1
            (br_if $done0 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
            (local.set $g (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $q))))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $q))))))
            (local.set $g2 (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $dy) (local.get $q))))
              (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $w) (local.get $q))))))
            (local.set $sg (f64x2.add (local.get $sg) (local.get $g)))
            (local.set $sg2 (f64x2.add (local.get $sg2) (local.get $g2)))
            (local.set $sx (f64x2.add (local.get $sx) (f64x2.mul (local.get $g)
              (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $q)))) (local.get $mv)))))
            (local.set $sx2 (f64x2.add (local.get $sx2) (f64x2.mul (local.get $g2)
              (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (i32.add (local.get $x) (local.get $q)))) (local.get $mv)))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $quads1)))
          (block $done1 (loop $pairs1
            (br_if $done1 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols)))
            (local.set $g (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $q))))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $q))))))
            (local.set $sg (f64x2.add (local.get $sg) (local.get $g)))
            (local.set $sx (f64x2.add (local.get $sx) (f64x2.mul (local.get $g)
              (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $q)))) (local.get $mv)))))
            (local.set $q (i32.add (local.get $q) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs1)))
          (if (i32.lt_u (local.get $j) (local.get $cols))
            (then
              (local.set $gs (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $q))))
                (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $q))))))
              (local.set $sg (f64x2.replace_lane 0 (local.get $sg) (f64.add (f64x2.extract_lane 0 (local.get $sg)) (local.get $gs))))
              (local.set $sx (f64x2.replace_lane 0 (local.get $sx) (f64.add (f64x2.extract_lane 0 (local.get $sx))
                (f64.mul (local.get $gs) (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $q)))) (local.get $m))))))))
          (local.set $mg (f64x2.splat (f64.div (call $lanes4 (local.get $sg) (local.get $sg2)) (local.get $n))))
          (local.set $mgx (f64x2.splat (f64.mul
            (f64.div (f64.mul (call $lanes4 (local.get $sx) (local.get $sx2)) (local.get $r)) (local.get $n))
            (local.get $r))))
          (local.set $j (i32.const 0))
          (local.set $q (i32.const 0))
          (block $done2 (loop $pairs2
            (br_if $done2 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols)))
            (local.set $g (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $q))))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $q))))))
            (local.set $xm (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $q)))) (local.get $mv)))
            (v128.store64_lane 0 (i32.add (local.get $dx) (local.get $q))
              (f32x4.demote_f64x2_zero
                (f64x2.sub (f64x2.mul (local.get $rv) (f64x2.sub (local.get $g) (local.get $mg)))
                  (f64x2.mul (f64x2.mul (local.get $xm) (local.get $mgx)) (local.get $rv)))))
            (local.set $q (i32.add (local.get $q) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs2)))
          (if (i32.lt_u (local.get $j) (local.get $cols))
            (then
              (local.set $gs (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $q))))
                (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $q))))))
              (local.set $xs (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $q)))) (local.get $m)))
              (f32.store (i32.add (local.get $dx) (local.get $q))
                (f32.demote_f64 (f64.sub (f64.mul (local.get $r) (f64.sub (local.get $gs) (f64x2.extract_lane 0 (local.get $mg))))
                  (f64.mul (f64.mul (local.get $xs) (f64x2.extract_lane 0 (local.get $mgx))) (local.get $r)))))))))
      (if (i32.and (local.get $needs) (i32.const 6))
        (then
          (local.set $j (i32.const 0))
          (local.set $q (i32.const 0))
          (block $done3 (loop $pairs3
            (br_if $done3 (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $cols)))
            (local.set $dyv (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dy) (local.get $q)))))
            (if (i32.and (local.get $needs) (i32.const 2))
              (then
                (v128.store (i32.add (local.get $dw) (i32.shl (local.get $q) (i32.const 1)))
                  (f64x2.add (v128.load (i32.add (local.get $dw) (i32.shl (local.get $q) (i32.const 1))))
                    (f64x2.mul (f64x2.mul (local.get $dyv)
                      (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $q)))) (local.get $mv)))
                      (local.get $rv))))))
            (if (i32.and (local.get $needs) (i32.const 4))
              (then
                (v128.store (i32.add (local.get $db) (i32.shl (local.get $q) (i32.const 1)))
                  (f64x2.add (v128.load (i32.add (local.get $db) (i32.shl (local.get $q) (i32.const 1)))) (local.get $dyv)))))
            (local.set $q (i32.add (local.get $q) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs3)))
          (if (i32.lt_u (local.get $j) (local.get $cols))
            (then
              (local.set $dys (f64.promote_f32 (f32.load (i32.add (local.get $dy) (local.get $q)))))
              (if (i32.and (local.get $needs) (i32.const 2))
                (then
                  (f64.store (i32.add (local.get $dw) (i32.shl (local.get $q) (i32.const 1)))
                    (f64.add (f64.load (i32.add (local.get $dw) (i32.shl (local.get $q) (i32.const 1))))
                      (f64.mul (f64.mul (local.get $dys)
                        (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $q)))) (local.get $m)))
                        (local.get $r))))))
              (if (i32.and (local.get $needs) (i32.const 4))
                (then
                  (f64.store (i32.add (local.get $db) (i32.shl (local.get $q) (i32.const 1)))
                    (f64.add (f64.load (i32.add (local.get $db) (i32.shl (local.get $q) (i32.const 1)))) (local.get $dys)))))))))
      (local.set $dy (i32.add (local.get $dy) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $dx (i32.add (local.get $dx) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $mean (i32.add (local.get $mean) (i32.const 4)))
      (local.set $rstd (i32.add (local.get $rstd) (i32.const 4)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br_if $rowsLoop (local.get $rows))))
  ;; swap_axes(src, dst, a, b, m, c, d) copies src [a, b, m, c, d] to dst [a, c, m, b, d] (4-byte
  ;; values, bits as they are): a permutation that swaps two axes and keeps the trailing run of d
  ;; values, as attention's split into heads and its merge back ([n, t, h, e] to [n, h, t, e]).
  (func (export "swap_axes") (param $src i32) (param $dst i32) (param $a i32) (param $b i32) (param $m i32) (param $c i32) (param $d i32)
    (local $ia i32) (local $ic i32) (local $im i32) (local $ib i32) (local $k i32) (local $s i32) (local $o i32) (local $run i32)
    (local $bs i32) (local $ms i32) (local $cs i32)
    (if (i32.or (i32.or (i32.eqz (local.get $a)) (i32.eqz (local.get $b)))
          (i32.or (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $c))) (i32.eqz (local.get $d))))
      (then (return)))
    ;; Byte strides of the source: one c step is d values, one m step c*d, one b step m*c*d.
    (local.set $run (i32.shl (local.get $d) (i32.const 2)))
    (local.set $cs (local.get $run))
    (local.set $ms (i32.mul (local.get $c) (local.get $cs)))
    (local.set $bs (i32.mul (local.get $m) (local.get $ms)))
    (local.set $o (local.get $dst))
    (local.set $ia (i32.const 0))
    (loop $as
      (local.set $ic (i32.const 0))
      (loop $cs_
        (local.set $im (i32.const 0))
        (loop $ms_
          (local.set $ib (i32.const 0))
          (loop $bs_
            (local.set $s (i32.add (local.get $src) (i32.add (i32.add (i32.mul (local.get $ia) (i32.mul (local.get $b) (local.get $bs)))
              (i32.mul (local.get $ib) (local.get $bs))) (i32.add (i32.mul (local.get $im) (local.get $ms)) (i32.mul (local.get $ic) (local.get $cs))))))
            (local.set $k (i32.const 0))
            (block $tail
              (loop $vec
                (br_if $tail (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $run)))
                (v128.store (i32.add (local.get $o) (local.get $k)) (v128.load (i32.add (local.get $s) (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $vec)))
            (block $done
              (loop $one
                (br_if $done (i32.ge_u (local.get $k) (local.get $run)))
                (i32.store (i32.add (local.get $o) (local.get $k)) (i32.load (i32.add (local.get $s) (local.get $k))))
                (local.set $k (i32.add (local.get $k) (i32.const 4)))
                (br $one)))
            (local.set $o (i32.add (local.get $o) (local.get $run)))
            (local.set $ib (i32.add (local.get $ib) (i32.const 1)))
            (br_if $bs_ (i32.lt_u (local.get $ib) (local.get $b))))
          (local.set $im (i32.add (local.get $im) (i32.const 1)))
          (br_if $ms_ (i32.lt_u (local.get $im) (local.get $m))))
        (local.set $ic (i32.add (local.get $ic) (i32.const 1)))
        (br_if $cs_ (i32.lt_u (local.get $ic) (local.get $c))))
      (local.set $ia (i32.add (local.get $ia) (i32.const 1)))
      (br_if $as (i32.lt_u (local.get $ia) (local.get $a)))))
  ;; The attention kernels. Item t of `items` is head h = t % heads of batch entry b = t / heads:
  ;; its queries are the l rows of d floats at q + (b*l*qs + h*d)*4 bytes, qs floats apart (qs = d
  ;; for one head, heads*d for the heads of a [b, l, heads*d] projection side by side); its keys
  ;; (s rows of d) and values (s rows of dv) likewise with ks and vs, its output (l rows of dv) with
  ;; os, and its attention weights the [l, s] block t of p. The products run on $gemm in depth blocks
  ;; of kcMax and the softmax steps on $softmax_rows and $softmax_bwd_rows, in the order the
  ;; composite takes them (matmul, times scale, the causal mask, softmax, matmul), so both give the
  ;; same bits. Rows are read past the last query (the product works on four rows at a time) and
  ;; columns past the last feature (eight at a time), so each input needs 4 rows and 8 floats of
  ;; room after it; the results past them are never copied out.
  ;;
  ;; attn_fwd(q, k, v, o, p, items, heads, l, s, d, dv, qs, ks, vs, os, scale, causal, kcMax, tab, kt, sc, sr, ob):
  ;; softmax(q k^T * scale, masked to keys j <= i for query i when causal) into p, that times v into o.
  ;; Scratch: kt (d x s8 floats, s8 = s rounded up to 8), sc (4*ceil(l/4) x s8), sr (l*s + 4), ob (4*ceil(l/4) x dv8).
  ;;
  ;; attn_bwd(g, q, k, v, p, dq, dk, dvv, items, heads, l, s, d, dv, qs, ks, vs, os, scale, causal, kcMax, tab, vt, dpc, dps, ds, dr, tr, cb):
  ;; the gradients for g (laid out as o): dp = g v^T, ds = softmax backward of dp at p, dr = ds * scale
  ;; (0 where masked), dq = dr k, dk = dr^T q and dvv = p^T g, each in its input's layout. Scratch: vt
  ;; (dv x s8), dpc (4*ceil(l/4) x s8), dps, ds and dr (l*s + 4 each, dr 4*ceil(l/4) x s), tr
  ;; (4*ceil(s/4) x l), cb (4*ceil(max(l, s)/4) x max(d8, dv8)).
  ;;
  ;; $head_at(b, len, stride, h, width): the byte offset of head h of batch entry b in an array of
  ;; len rows a batch entry, stride floats a row, each head `width` floats of a row.
  (func $head_at (param $b i32) (param $len i32) (param $stride i32) (param $h i32) (param $width i32) (result i32)
    (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $len)) (local.get $stride)) (i32.mul (local.get $h) (local.get $width))) (i32.const 2)))
  ;; $rows_copy(src, ld, rows, cols, dst, ldd) copies a rows x cols block (row strides ld and ldd
  ;; floats), whole vectors then single floats, writing nothing past a row's cols.
  (func $rows_copy (export "rows_copy") (param $src i32) (param $ld i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $i i32) (local $j i32) (local $c4 i32)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $r
        (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $vdone
          (loop $v
            (br_if $vdone (i32.ge_u (local.get $j) (local.get $c4)))
            (v128.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldd)) (local.get $j)) (i32.const 2)))
              (v128.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ld)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $v)))
        (block $sdone
          (loop $sc
            (br_if $sdone (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldd)) (local.get $j)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ld)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $sc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r))))
  ;; $scale_mask(src, ld, rows, cols, dst, scale, causal, fill): dst [rows, cols] (contiguous; a row's
  ;; last vector may write up to 3 floats into the next row, or past the last) = src * scale, with
  ;; `fill` where causal and column j > row i.
  (func $scale_mask (param $src i32) (param $ld i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (param $scale f32) (param $causal i32) (param $fill f32)
    (local $i i32) (local $j i32) (local $x v128) (local $m v128)
    (local.set $i (i32.const 0))
    (block $done
      (loop $r
        (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (loop $v
          (local.set $x (f32x4.mul
            (v128.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ld)) (local.get $j)) (i32.const 2))))
            (f32x4.splat (local.get $scale))))
          (if (local.get $causal)
            (then
              (local.set $m (i32x4.gt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $i))))
              (local.set $x (v128.bitselect (f32x4.splat (local.get $fill)) (local.get $x) (local.get $m)))))
          (v128.store (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2))) (local.get $x))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $v (i32.lt_u (local.get $j) (local.get $cols))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r))))
  ;; $product(a, lda, b, ldb, c, ldc, rows, cols, depth, kcMax): C [4*ceil(rows/4), 8*ceil(cols/8)] = A @ B
  ;; on $gemm over depth blocks of kcMax (B row-major, its panels 32 bytes apart), as gemm_blocked sums.
  (func $product (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $rows i32) (param $cols i32) (param $depth i32) (param $kcMax i32)
    (local $p0 i32) (local $kc i32)
    (local.set $p0 (i32.const 0))
    (block $done
      (loop $k
        (br_if $done (i32.ge_u (local.get $p0) (local.get $depth)))
        (local.set $kc (i32.sub (local.get $depth) (local.get $p0)))
        (if (i32.gt_u (local.get $kc) (local.get $kcMax)) (then (local.set $kc (local.get $kcMax))))
        (call $gemm
          (i32.add (local.get $a) (i32.shl (local.get $p0) (i32.const 2)))
          (local.get $lda)
          (i32.add (local.get $b) (i32.shl (i32.mul (local.get $p0) (local.get $ldb)) (i32.const 2)))
          (local.get $ldb)
          (local.get $c)
          (local.get $ldc)
          (i32.shr_u (i32.add (local.get $rows) (i32.const 3)) (i32.const 2))
          (i32.shr_u (i32.add (local.get $cols) (i32.const 7)) (i32.const 3))
          (local.get $kc)
          (local.get $p0)
          (i32.const 32)
          (i32.const 0))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br $k))))
  (func $attn_fwd (export "attn_fwd")
    (param $q i32) (param $k i32) (param $v i32) (param $o i32) (param $p i32)
    (param $items i32) (param $heads i32) (param $l i32) (param $s i32) (param $d i32) (param $dv i32)
    (param $qs i32) (param $ks i32) (param $vs i32) (param $os i32) (param $scale f32) (param $causal i32)
    (param $kcMax i32) (param $tab i32) (param $kt i32) (param $sc i32) (param $sr i32) (param $ob i32)
    (local $t i32) (local $b i32) (local $h i32) (local $qb i32) (local $kb i32) (local $vb i32) (local $pb i32) (local $s8 i32) (local $dv8 i32)
    (local.set $s8 (i32.and (i32.add (local.get $s) (i32.const 7)) (i32.const -8)))
    (local.set $dv8 (i32.and (i32.add (local.get $dv) (i32.const 7)) (i32.const -8)))
    ;; K^T's columns past s stay zero.
    (memory.fill (local.get $kt) (i32.const 0) (i32.shl (i32.mul (local.get $d) (local.get $s8)) (i32.const 2)))
    (local.set $t (i32.const 0))
    (block $done
      (loop $item
        (br_if $done (i32.ge_u (local.get $t) (local.get $items)))
        (local.set $b (i32.div_u (local.get $t) (local.get $heads)))
        (local.set $h (i32.sub (local.get $t) (i32.mul (local.get $b) (local.get $heads))))
        (local.set $qb (i32.add (local.get $q) (call $head_at (local.get $b) (local.get $l) (local.get $qs) (local.get $h) (local.get $d))))
        (local.set $kb (i32.add (local.get $k) (call $head_at (local.get $b) (local.get $s) (local.get $ks) (local.get $h) (local.get $d))))
        (local.set $vb (i32.add (local.get $v) (call $head_at (local.get $b) (local.get $s) (local.get $vs) (local.get $h) (local.get $dv))))
        (local.set $pb (i32.add (local.get $p) (i32.shl (i32.mul (i32.mul (local.get $t) (local.get $l)) (local.get $s)) (i32.const 2))))
        (call $transpose_ld (local.get $kb) (local.get $ks) (local.get $s) (local.get $d) (local.get $kt) (local.get $s8))
        (call $product (local.get $qb) (local.get $qs) (local.get $kt) (local.get $s8) (local.get $sc) (local.get $s8)
          (local.get $l) (local.get $s) (local.get $d) (local.get $kcMax))
        (call $scale_mask (local.get $sc) (local.get $s8) (local.get $l) (local.get $s) (local.get $sr)
          (local.get $scale) (local.get $causal) (f32.const -inf))
        (call $softmax_rows (local.get $sr) (local.get $pb) (local.get $l) (local.get $s) (local.get $tab))
        (call $product (local.get $pb) (local.get $s) (local.get $vb) (local.get $vs) (local.get $ob) (local.get $dv8)
          (local.get $l) (local.get $dv) (local.get $s) (local.get $kcMax))
        (call $rows_copy (local.get $ob) (local.get $dv8) (local.get $l) (local.get $dv)
          (i32.add (local.get $o) (call $head_at (local.get $b) (local.get $l) (local.get $os) (local.get $h) (local.get $dv)))
          (local.get $os))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $item))))
  (func $attn_bwd (export "attn_bwd")
    (param $g i32) (param $q i32) (param $k i32) (param $v i32) (param $p i32) (param $dq i32) (param $dk i32) (param $dvv i32)
    (param $items i32) (param $heads i32) (param $l i32) (param $s i32) (param $d i32) (param $dv i32)
    (param $qs i32) (param $ks i32) (param $vs i32) (param $os i32) (param $scale f32) (param $causal i32)
    (param $kcMax i32) (param $tab i32) (param $vt i32) (param $dpc i32) (param $dps i32) (param $ds i32) (param $dr i32) (param $tr i32) (param $cb i32)
    (local $t i32) (local $b i32) (local $h i32) (local $gb i32) (local $qb i32) (local $kb i32) (local $vb i32) (local $pb i32)
    (local $s8 i32) (local $d8 i32) (local $dv8 i32)
    (local.set $s8 (i32.and (i32.add (local.get $s) (i32.const 7)) (i32.const -8)))
    (local.set $d8 (i32.and (i32.add (local.get $d) (i32.const 7)) (i32.const -8)))
    (local.set $dv8 (i32.and (i32.add (local.get $dv) (i32.const 7)) (i32.const -8)))
    (memory.fill (local.get $vt) (i32.const 0) (i32.shl (i32.mul (local.get $dv) (local.get $s8)) (i32.const 2)))
    (local.set $t (i32.const 0))
    (block $done
      (loop $item
        (br_if $done (i32.ge_u (local.get $t) (local.get $items)))
        (local.set $b (i32.div_u (local.get $t) (local.get $heads)))
        (local.set $h (i32.sub (local.get $t) (i32.mul (local.get $b) (local.get $heads))))
        (local.set $gb (call $head_at (local.get $b) (local.get $l) (local.get $os) (local.get $h) (local.get $dv)))
        (local.set $qb (call $head_at (local.get $b) (local.get $l) (local.get $qs) (local.get $h) (local.get $d)))
        (local.set $kb (call $head_at (local.get $b) (local.get $s) (local.get $ks) (local.get $h) (local.get $d)))
        (local.set $vb (call $head_at (local.get $b) (local.get $s) (local.get $vs) (local.get $h) (local.get $dv)))
        (local.set $pb (i32.add (local.get $p) (i32.shl (i32.mul (i32.mul (local.get $t) (local.get $l)) (local.get $s)) (i32.const 2))))
        ;; dp = g v^T, compacted to [l, s] rows.
        (call $transpose_ld (i32.add (local.get $v) (local.get $vb)) (local.get $vs) (local.get $s) (local.get $dv) (local.get $vt) (local.get $s8))
        (call $product (i32.add (local.get $g) (local.get $gb)) (local.get $os) (local.get $vt) (local.get $s8) (local.get $dpc) (local.get $s8)
          (local.get $l) (local.get $s) (local.get $dv) (local.get $kcMax))
        (call $rows_copy (local.get $dpc) (local.get $s8) (local.get $l) (local.get $s) (local.get $dps) (local.get $s))
        (call $softmax_bwd_rows (local.get $dps) (local.get $pb) (local.get $ds) (local.get $l) (local.get $s) (local.get $tab))
        (call $scale_mask (local.get $ds) (local.get $s) (local.get $l) (local.get $s) (local.get $dr)
          (local.get $scale) (local.get $causal) (f32.const 0))
        ;; dq = dr k
        (call $product (local.get $dr) (local.get $s) (i32.add (local.get $k) (local.get $kb)) (local.get $ks) (local.get $cb) (local.get $d8)
          (local.get $l) (local.get $d) (local.get $s) (local.get $kcMax))
        (call $rows_copy (local.get $cb) (local.get $d8) (local.get $l) (local.get $d) (i32.add (local.get $dq) (local.get $qb)) (local.get $qs))
        ;; dk = dr^T q
        (call $transpose (local.get $dr) (local.get $l) (local.get $s) (local.get $tr) (local.get $l))
        (call $product (local.get $tr) (local.get $l) (i32.add (local.get $q) (local.get $qb)) (local.get $qs) (local.get $cb) (local.get $d8)
          (local.get $s) (local.get $d) (local.get $l) (local.get $kcMax))
        (call $rows_copy (local.get $cb) (local.get $d8) (local.get $s) (local.get $d) (i32.add (local.get $dk) (local.get $kb)) (local.get $ks))
        ;; dv = p^T g
        (call $transpose (local.get $pb) (local.get $l) (local.get $s) (local.get $tr) (local.get $l))
        (call $product (local.get $tr) (local.get $l) (i32.add (local.get $g) (local.get $gb)) (local.get $os) (local.get $cb) (local.get $dv8)
          (local.get $s) (local.get $dv) (local.get $l) (local.get $kcMax))
        (call $rows_copy (local.get $cb) (local.get $dv8) (local.get $s) (local.get $dv) (i32.add (local.get $dvv) (local.get $vb)) (local.get $vs))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $item))))
  ;; adam_part(p, g, m, v, n, b1, ...): $adam with its float32 constants given as their bits, so a
  ;; worker can run a share of one Adam step from an argument struct of i32 fields.
  (func $adam_part (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 i32) (param $b2 i32) (param $a1 i32) (param $a2 i32) (param $step i32) (param $eps i32) (param $first i32)
    (param $decay i32) (param $wd i32) (param $shrink i32)
    (call $adam (local.get $p) (local.get $g) (local.get $m) (local.get $v) (local.get $n)
      (f32.reinterpret_i32 (local.get $b1)) (f32.reinterpret_i32 (local.get $b2)) (f32.reinterpret_i32 (local.get $a1))
      (f32.reinterpret_i32 (local.get $a2)) (f32.reinterpret_i32 (local.get $step)) (f32.reinterpret_i32 (local.get $eps))
      (local.get $first) (local.get $decay) (f32.reinterpret_i32 (local.get $wd)) (f32.reinterpret_i32 (local.get $shrink))))
  ;; @elementwise: the table in generate.mjs writes the elementwise family here.
  ;; @tasks: generate.mjs writes here the struct-argument entry points of the thread kernels.
)
