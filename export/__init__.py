"""Turn a checkpoint into device artefacts: ONNX and ExecuTorch (fp32 and int8), plus
sherpa-onnx-compatible flavours of each head. `python -m export --help` is the entry point."""
