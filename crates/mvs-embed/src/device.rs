//! Where inference runs: the execution provider choice and its fallbacks.
//!
//! Order: the `MCP_VECTOR_SEARCH_DEVICE` override, else CoreML (macOS), else
//! CUDA, else CPU. A provider that cannot be used falls back to CPU; when it
//! was asked for explicitly the fallback is a warning that says why and what
//! to install.

use std::fmt;

use serde::Serialize;

/// A device class, each backed by one ONNX Runtime execution provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// `CPUExecutionProvider`: always available.
    Cpu,
    /// `CUDAExecutionProvider`: the `onnxruntime-gpu` library, an NVIDIA
    /// driver and a GPU.
    Cuda,
    /// `CoreMLExecutionProvider`: macOS builds of ONNX Runtime.
    CoreMl,
}

impl Device {
    /// The name users type and `status` shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::CoreMl => "coreml",
        }
    }

    /// The ONNX Runtime execution provider's name.
    pub fn provider(self) -> &'static str {
        match self {
            Self::Cpu => "CPUExecutionProvider",
            Self::Cuda => "CUDAExecutionProvider",
            Self::CoreMl => "CoreMLExecutionProvider",
        }
    }

    /// What to install when this provider is missing from the loaded runtime.
    pub(crate) fn install_hint(self) -> &'static str {
        match self {
            Self::Cpu => "",
            Self::Cuda => {
                "install the `onnxruntime-gpu` wheel (same version as the runtime), point ORT_DYLIB_PATH at its \
                 libonnxruntime.so, and make sure the NVIDIA driver and the CUDA/cuDNN libraries it needs are \
                 on LD_LIBRARY_PATH"
            }
            Self::CoreMl => "use the macOS `onnxruntime` wheel's library (it includes CoreML) on a Mac",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceRequest {
    /// The best available: CoreML, then CUDA, then CPU.
    #[default]
    Auto,
    /// This device, or CPU with a warning.
    Only(Device),
}

impl DeviceRequest {
    /// Parses `auto`, `cpu`, `cuda`, `gpu` (alias of `cuda`), `coreml` or
    /// `mps` (alias of `coreml`), case-insensitively.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Only(Device::Cpu)),
            "cuda" | "gpu" => Ok(Self::Only(Device::Cuda)),
            "coreml" | "mps" => Ok(Self::Only(Device::CoreMl)),
            other => Err(format!("{other} is not a device; use auto, cpu, cuda or coreml (mps)")),
        }
    }

    /// Devices to try, best first; CPU always ends the list.
    pub fn candidates(self) -> Vec<Device> {
        match self {
            Self::Auto if cfg!(target_os = "macos") => vec![Device::CoreMl, Device::Cpu],
            Self::Auto => vec![Device::Cuda, Device::Cpu],
            Self::Only(Device::Cpu) => vec![Device::Cpu],
            Self::Only(device) => vec![device, Device::Cpu],
        }
    }

    /// Whether `device` failing is worth a warning: only when the user asked
    /// for it (an automatic probe of an absent GPU is normal).
    pub(crate) fn insists_on(self, device: Device) -> bool {
        self == Self::Only(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_aliases() {
        assert_eq!(DeviceRequest::parse("CUDA"), Ok(DeviceRequest::Only(Device::Cuda)));
        assert_eq!(DeviceRequest::parse("mps"), Ok(DeviceRequest::Only(Device::CoreMl)));
        assert_eq!(DeviceRequest::parse(" cpu "), Ok(DeviceRequest::Only(Device::Cpu)));
        assert_eq!(DeviceRequest::parse(""), Ok(DeviceRequest::Auto));
        let error = DeviceRequest::parse("tpu").unwrap_err();
        assert!(error.contains("auto, cpu, cuda or coreml"), "{error}");
    }

    #[test]
    fn cpu_always_ends_the_candidates() {
        for request in [
            DeviceRequest::Auto,
            DeviceRequest::Only(Device::Cuda),
            DeviceRequest::Only(Device::CoreMl),
            DeviceRequest::Only(Device::Cpu),
        ] {
            assert_eq!(request.candidates().last(), Some(&Device::Cpu), "{request:?}");
        }
        assert_eq!(
            DeviceRequest::Only(Device::Cuda).candidates(),
            vec![Device::Cuda, Device::Cpu]
        );
    }
}
