// A main for AFL++ persistent mode (afl-clang-fast++ / afl-clang-lto++): the
// test case arrives in shared memory and up to 100000 inputs run per fork.
// Outside afl-fuzz it reads one input from standard input.
//
//   AFL_NO_UI=1 afl-fuzz -i seeds -o out -- build/afl/fuzz/fuzz_guest_walk
#include <unistd.h>  // read(): __AFL_FUZZ_TESTCASE_LEN reads standard input outside afl-fuzz

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

__AFL_FUZZ_INIT();

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
#ifdef __AFL_HAVE_MANUAL_CONTROL
  __AFL_INIT();
#endif
  const unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;  // after __AFL_INIT, before the loop
  while (__AFL_LOOP(100000)) {
    const int len = __AFL_FUZZ_TESTCASE_LEN;
    LLVMFuzzerTestOneInput(buf, static_cast<std::size_t>(len));
  }
  return 0;
}
