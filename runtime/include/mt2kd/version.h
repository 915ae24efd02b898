#pragma once
namespace mt2kd {
// The project's one version number: the Python package reads it from here (pyproject.toml's regex
// provider, and mt2kd_edge.__version__ through the bindings).
inline constexpr const char *kCoreVersion = "0.1.0";
}  // namespace mt2kd
