// The only C in fact: setjmp/longjmp, which Rust cannot express soundly. A trap in wasm
// code unwinds by longjmp from the signal handler back to `fact_catch`, skipping only the
// wasm frames and the frame of the Rust function `body` (which owns nothing).

#include <setjmp.h>

typedef void (*fact_body_fn)(void *);

// Runs `body(payload)`. Returns 1 if it returned normally and 0 if it was unwound by
// `fact_unwind`. `*jmp_buf_out` points at the jump buffer while `body` runs.
int fact_catch(void **jmp_buf_out, fact_body_fn body, void *payload) {
  jmp_buf buf;
  if (setjmp(buf) != 0) {
    return 0;
  }
  *jmp_buf_out = &buf;
  body(payload);
  return 1;
}

// Unwinds to the `fact_catch` whose jump buffer is `jmp_buf_ptr`.
void fact_unwind(void *jmp_buf_ptr) {
  longjmp(*(jmp_buf *)jmp_buf_ptr, 1);
}
