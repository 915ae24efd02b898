#pragma once
namespace mt2kd {
// Bumped with the Python package version (pyproject.toml); the bindings expose it.
inline constexpr const char *kCoreVersion = "0.1.0";
}  // namespace mt2kd
