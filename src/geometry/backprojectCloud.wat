;; The back-projection + PointCloud2 packing kernel of src/geometry/backproject.ts, in WebAssembly
;; with 128-bit SIMD. `npx tsx tools/build-wasm.ts` assembles it (wabt's wat2wasm) into
;; backprojectCloudWasm.ts; both files are committed, and a test checks that they agree.
;;
;; Why WebAssembly: in V8 every typed-array access of a JS loop re-checks the array's map and
;; bounds (TurboFan does not hoist those checks), which kept the best plain-JS loop at 2-2.5x a C
;; -O2 loop; here the memory is one linear buffer whose bounds the engine's guard pages check.
;;
;; cloud(...) reads, all in this instance's memory: depth (float32 per pixel, width x rows), rgb
;; (3 bytes per pixel, 16 bytes of slack after it), labels (uint16 per pixel), cols (float64
;; (u - cx)/fx per grid column), and writes gw x gh points of 20 bytes at `out`:
;; x y z float32, rgb bits (0x00RRGGBB as uint32), label uint32 (POINT_FIELDS in pointcloud2.ts).
;; x = float32(cols[j] * z) and y = float32(((v - cy)/fy) * z), products in float64, as the JS and
;; C references compute them. A depth d is kept when min <= d <= max (float32 bounds the caller
;; rounds so that the float32 test equals the float64 one), else x y z are NaN (0x7fc00000).
;; Decimation 1 runs 4 points a step; other decimations, and a row's last gw mod 4 points, one.
(module
  (import "env" "memory" (memory 1))
  (func (export "cloud")
    (param $depth i32) (param $rgb i32) (param $labels i32) (param $cols i32) (param $out i32)
    (param $width i32) (param $gw i32) (param $gh i32) (param $n i32)
    (param $cy f64) (param $fy f64) (param $min f32) (param $max f32)
    (param $hasRgb i32) (param $hasLabels i32) (param $unlabelled i32)
    (local $i i32) (local $j i32) (local $p i32) (local $v i32) (local $rf f64) (local $quadEnd i32)
    (local $z v128) (local $zlo v128) (local $zhi v128) (local $x v128) (local $y v128) (local $r v128) (local $l v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $zs f32) (local $q i32) (local $rfv v128) (local $minv v128) (local $maxv v128) (local $nanv v128) (local $unlv v128)
    (local.set $minv (f32x4.splat (local.get $min)))
    (local.set $maxv (f32x4.splat (local.get $max)))
    (local.set $nanv (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000))
    (local.set $unlv (i32x4.splat (local.get $unlabelled)))
    ;; 4-point steps only when a row's points are consecutive pixels (decimation 1).
    (local.set $quadEnd (select (i32.and (local.get $gw) (i32.const -4)) (i32.const 0) (i32.eq (local.get $n) (i32.const 1))))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $gh)))
      (local.set $v (i32.mul (local.get $i) (local.get $n)))
      (local.set $rf (f64.div (f64.sub (f64.convert_i32_u (local.get $v)) (local.get $cy)) (local.get $fy)))
      (local.set $rfv (f64x2.splat (local.get $rf)))
      (local.set $p (i32.mul (local.get $v) (local.get $width)))
      (local.set $j (i32.const 0))
      (block $quadsDone (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $j) (local.get $quadEnd)))
        (local.set $z (v128.load (i32.add (local.get $depth) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $z (v128.bitselect (local.get $z) (local.get $nanv)
          (v128.and (f32x4.ge (local.get $z) (local.get $minv)) (f32x4.le (local.get $z) (local.get $maxv)))))
        (local.set $zlo (f64x2.promote_low_f32x4 (local.get $z)))
        (local.set $zhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $z) (local.get $z))))
        (local.set $q (i32.add (local.get $cols) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $x (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (v128.load (local.get $q)) (local.get $zlo)))
          (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=16 (local.get $q)) (local.get $zhi)))))
        (local.set $y (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rfv) (local.get $zlo)))
          (f32x4.demote_f64x2_zero (f64x2.mul (local.get $rfv) (local.get $zhi)))))
        ;; rgb: a 16-byte load at pixel p holds its 4 pixels' 12 bytes; the swizzle puts b g r 0 in
        ;; each lane (little-endian 0x00RRGGBB); 0x80 selects a zero byte.
        (if (local.get $hasRgb)
          (then (local.set $r (i8x16.swizzle (v128.load (i32.add (local.get $rgb) (i32.mul (local.get $p) (i32.const 3))))
            (v128.const i8x16 2 1 0 0x80 5 4 3 0x80 8 7 6 0x80 11 10 9 0x80))))
          (else (local.set $r (v128.const i32x4 0 0 0 0))))
        (if (local.get $hasLabels)
          (then (local.set $l (v128.load16x4_u (i32.add (local.get $labels) (i32.shl (local.get $p) (i32.const 1))))))
          (else (local.set $l (local.get $unlv))))
        ;; 4x4 transpose of x y z r into one [x y z r] vector per point: 16-byte stores at each
        ;; point's 20-byte record, the label after it.
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x) (local.get $y)))
        (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $z) (local.get $r)))
        (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x) (local.get $y)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $z) (local.get $r)))
        (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
        (i32.store offset=16 (local.get $out) (i32x4.extract_lane 0 (local.get $l)))
        (v128.store offset=20 (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
        (i32.store offset=36 (local.get $out) (i32x4.extract_lane 1 (local.get $l)))
        (v128.store offset=40 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
        (i32.store offset=56 (local.get $out) (i32x4.extract_lane 2 (local.get $l)))
        (v128.store offset=60 (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
        (i32.store offset=76 (local.get $out) (i32x4.extract_lane 3 (local.get $l)))
        (local.set $out (i32.add (local.get $out) (i32.const 80)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quads)))
      ;; One point a step: the rest of the row, or every point when decimating. When rgb or labels
      ;; are missing their pointers still address this memory (select evaluates both arms).
      (block $pointsDone (loop $points
        (br_if $pointsDone (i32.ge_u (local.get $j) (local.get $gw)))
        (local.set $zs (f32.load (i32.add (local.get $depth) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $zs (select (local.get $zs) (f32.const nan)
          (i32.and (f32.ge (local.get $zs) (local.get $min)) (f32.le (local.get $zs) (local.get $max)))))
        (f32.store (local.get $out) (f32.demote_f64 (f64.mul
          (f64.load (i32.add (local.get $cols) (i32.shl (local.get $j) (i32.const 3)))) (f64.promote_f32 (local.get $zs)))))
        (f32.store offset=4 (local.get $out) (f32.demote_f64 (f64.mul (local.get $rf) (f64.promote_f32 (local.get $zs)))))
        (f32.store offset=8 (local.get $out) (local.get $zs))
        (local.set $q (i32.add (local.get $rgb) (i32.mul (local.get $p) (i32.const 3))))
        (i32.store offset=12 (local.get $out) (select
          (i32.or (i32.or (i32.shl (i32.load8_u (local.get $q)) (i32.const 16))
                          (i32.shl (i32.load8_u offset=1 (local.get $q)) (i32.const 8)))
                  (i32.load8_u offset=2 (local.get $q)))
          (i32.const 0) (local.get $hasRgb)))
        (i32.store offset=16 (local.get $out) (select
          (i32.load16_u (i32.add (local.get $labels) (i32.shl (local.get $p) (i32.const 1))))
          (local.get $unlabelled) (local.get $hasLabels)))
        (local.set $out (i32.add (local.get $out) (i32.const 20)))
        (local.set $p (i32.add (local.get $p) (local.get $n)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $points)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows)))
  )
)
