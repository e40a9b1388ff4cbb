;; Out-of-bounds accesses in the shapes the compiler turns into different
;; internal instructions (plain, with a folded add, fused into arithmetic,
;; two loads, multiply-accumulate, store of a sum, in a callee, in a loop).
;; Every export takes an address and faults on it when it is large;
;; tests/wasm/guard_check.c compares the trap offsets of the guarded and the
;; checked path.
(module
  (memory 1)
  (func (export "load") (param i32) (result i32)
    local.get 0 i32.load offset=8)
  (func (export "load_ai") (param i32) (result i32)
    local.get 0 i32.const 4 i32.add i32.load offset=16)
  (func (export "load8") (param i32) (result i32)
    local.get 0 i32.load8_u)
  (func (export "load64") (param i32) (result i64)
    local.get 0 i64.load)
  (func (export "f64load") (param i32) (result f64)
    local.get 0 f64.load offset=3)
  (func (export "store") (param i32)
    local.get 0 i32.const 7 i32.store offset=4)
  (func (export "store16") (param i32)
    local.get 0 i32.const 7 i32.store16)
  (func (export "store_add") (param i32) (local i32 i32)
    local.get 0 local.get 1 local.get 2 i32.add i32.store)
  (func (export "store_select") (param i32) (local i32)
    local.get 0 i32.const -3 i32.const 5 local.get 1 i32.const 500 i32.gt_s select
    local.get 1 i32.add i32.store offset=4)
  (func (export "add_load") (param i32) (result i32) (local i32)
    local.get 1 local.get 0 i32.load i32.add)
  (func (export "xor_load_ai") (param i32) (result i32) (local i32)
    local.get 1 local.get 0 i32.const 8 i32.add i32.load i32.xor)
  (func (export "add_ldld") (param i32) (result i32)
    i32.const 0 i32.load local.get 0 i32.load i32.add)
  (func (export "mul_ldld") (param i32) (result i32)
    local.get 0 i32.const 4 i32.add i32.load local.get 0 i32.const 8 i32.add i32.load i32.mul)
  (func (export "mad") (param i32) (result i32) (local i32 i32)
    local.get 0 i32.const 4 i32.add i32.load local.get 0 i32.const 8 i32.add i32.load i32.mul
    local.get 1 local.get 2 i32.add
    i32.add)
  (func (export "second") (param i32) (result i32) (local i32)
    i32.const 16 i32.load local.set 1
    local.get 1 local.get 0 i32.load i32.add)
  (func $inner (param i32) (result i32)
    local.get 0 i32.load16_s offset=2)
  (func (export "callee") (param i32) (result i32)
    i32.const 1 local.get 0 call $inner i32.add)
  ;; a dot product unrolled by two, as clang emits it for a matrix multiply:
  ;; column pointer $p, row $base + $k, accumulator $s
  (func $dot (param $p i32) (result i32)
    (local $k i32) (local $s i32) (local $q i32) (local $base i32)
    i32.const 1024 local.set $base
    loop
      local.get $p i32.const 96 i32.add i32.load
      local.get $base local.get $k i32.add local.tee $q i32.const 4 i32.add i32.load
      i32.mul
      local.get $p i32.load local.get $q i32.load i32.mul
      local.get $s i32.add i32.add local.set $s
      local.get $p i32.const 192 i32.add local.set $p
      local.get $k i32.const 8 i32.add local.tee $k i32.const 96 i32.ne
      br_if 0
    end
    local.get $s)
  ;; the first pair of loads faults
  (func (export "dot_first") (param i32) (result i32)
    local.get 0 call $dot)
  ;; the first pair wraps around to address 0, the second faults
  (func (export "dot_second") (param i32) (result i32)
    i32.const -96 call $dot)
  ;; a pointer chase p = load(p + 4) in a loop
  (func (export "chase") (param $p i32) (result i32) (local $n i32)
    loop
      local.get $p i32.load offset=4 local.set $p
      local.get $n i32.const 1 i32.add local.tee $n i32.const 100 i32.ne
      br_if 0
    end
    local.get $p)
  ;; an access right after another one: the store at 240 succeeds, the
  ;; load faults and the trap names the load
  (func (export "load_after_store") (param i32) (result i32)
    i32.const 236 f64.const 1 f64.store offset=4
    local.get 0 i32.load16_u offset=2)
  (func (export "loop") (param i32) (result i32) (local i32 i32)
    ;; sums words from address 0 upwards, a step of 4096 bytes at a time,
    ;; until it runs off the end of the memory (the parameter is unused)
    loop
      local.get 2 local.get 1 i32.load i32.add local.set 2
      local.get 1 i32.const 4096 i32.add local.set 1
      br 0
    end
    unreachable))
