// A filter in front of ExecuTorch's log output. Its runtime logs at Info level on every program
// load (five cpuinfo lines on x86 that say nothing about the model); they reach users of every
// command and the example app on stderr. Errors always pass; Info and Debug pass only when asked
// for (SetExecuTorchVerboseLogs, or MT2KD_VERBOSE=1 in the environment).
#include <executorch/runtime/platform/platform.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "mt2kd/backend.h"

namespace mt2kd {

namespace {

// -1: not decided yet (read MT2KD_VERBOSE on first use); 0: quiet; 1: verbose
std::atomic<int> g_verbose{-1};
pal_emit_log_message_method g_forward = nullptr;  // the emitter that was active before ours

bool Verbose() {
  int v = g_verbose.load(std::memory_order_relaxed);
  if (v < 0) {
    const char *env = std::getenv("MT2KD_VERBOSE");
    v = env && *env && std::strcmp(env, "0") != 0 ? 1 : 0;
    int expected = -1;
    g_verbose.compare_exchange_strong(expected, v);  // a concurrent SetExecuTorchVerboseLogs wins
    v = g_verbose.load(std::memory_order_relaxed);
  }
  return v == 1;
}

void FilteredEmit(et_timestamp_t timestamp, et_pal_log_level_t level, const char *filename, const char *function,
                  size_t line, const char *message, size_t length) {
  if ((level == kInfo || level == kDebug) && !Verbose()) return;
  if (g_forward) {
    g_forward(timestamp, level, filename, function, line, message, length);
  } else {
    std::fprintf(stderr, "%c executorch:%s:%zu] %.*s\n", static_cast<char>(level), filename, line,
                 static_cast<int>(length), message);
  }
}

}  // namespace

void InstallExecuTorchLogFilter() {
  static std::once_flag once;
  std::call_once(once, [] {
    const auto *current = executorch::runtime::get_pal_impl();
    g_forward = current ? current->emit_log_message : nullptr;
    executorch::runtime::register_pal(executorch::runtime::PalImpl::create(FilteredEmit, __FILE__));
  });
}

void SetExecuTorchVerboseLogs(bool verbose) {
  g_verbose.store(verbose ? 1 : 0, std::memory_order_relaxed);
  InstallExecuTorchLogFilter();
}

}  // namespace mt2kd
