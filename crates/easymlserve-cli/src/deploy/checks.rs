//! Checks of the `deploy` flags: a value the cluster would refuse, or that would give a pod that never
//! works, is refused here with the flag's name, before any file is written.

use anyhow::{Result, bail};

/// Refuses a name that Kubernetes would refuse for a Deployment or Service (a DNS-1123 label).
pub fn name(flag: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-');
    if !ok {
        bail!(
            "`{flag}` {name:?} is not a DNS-1123 label: lower-case letters, digits and '-', at most 63, \
             starting with a letter and ending with a letter or digit"
        );
    }
    Ok(())
}

/// Refuses an empty image reference or one with spaces or control characters.
pub fn image(image: &str) -> Result<()> {
    if image.is_empty() || image.starts_with('-') || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("`--image` {image:?} is not an image reference such as registry.example.com/team/model:1.0");
    }
    Ok(())
}

/// The CPU quantity `text` (`500m`, `1`, `1.5`) in millicores, or an error naming `flag`.
pub fn cpu_millis(flag: &str, text: &str) -> Result<u64> {
    let millis = match text.strip_suffix('m') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse::<u64>().ok(),
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') => text
            .parse::<f64>()
            .ok()
            .filter(|cores| cores.is_finite())
            .map(|cores| (cores * 1000.0).round() as u64),
        None => None,
    };
    match millis {
        Some(millis) if millis > 0 => Ok(millis),
        _ => bail!("`{flag}` {text:?} is not a CPU quantity above zero such as 500m, 1 or 1.5"),
    }
}

/// Refuses a memory size that is not a Kubernetes quantity above zero such as `512Mi` or `1Gi`.
pub fn memory(flag: &str, memory: &str) -> Result<()> {
    let digits = memory.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &memory[digits.len()..];
    let number_ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.parse::<f64>().is_ok_and(|n| n > 0.0);
    let suffixes = ["", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"];
    if !number_ok || !suffixes.contains(&suffix) {
        bail!("`{flag}` {memory:?} is not a memory quantity above zero such as 512Mi or 1Gi");
    }
    Ok(())
}

/// Refuses a job store the server would refuse at start (`memory` or a `redis://` URL).
pub fn job_store(store: &str) -> Result<()> {
    let ok = store == "memory" || store.strip_prefix("redis://").is_some_and(|rest| !rest.is_empty());
    if !ok {
        bail!("`--job-store` {store:?} is not `memory` or a redis://host:port URL");
    }
    Ok(())
}

/// Refuses a path inside the image that is not absolute (the container's working directory is not
/// something a manifest should depend on).
pub fn absolute_path(flag: &str, path: &str) -> Result<()> {
    if !path.starts_with('/') || path.chars().any(char::is_control) {
        bail!("`{flag}` {path:?} is not an absolute path inside the image, such as /models");
    }
    Ok(())
}

/// Refuses a number below `min`.
pub fn at_least(flag: &str, value: u32, min: u32) -> Result<()> {
    if value < min {
        bail!("`{flag}` {value} is below {min}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu_millis("--cpu", "500m").unwrap(), 500);
        assert_eq!(cpu_millis("--cpu", "1.5").unwrap(), 1500);
        assert_eq!(cpu_millis("--cpu", "2").unwrap(), 2000);
        for bad in ["", "0", "0m", "m", "1.5m", "-1", "1e3", "one", "1 "] {
            let err = cpu_millis("--cpu", bad).unwrap_err().to_string();
            assert!(err.contains("`--cpu`"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn memory_quantities() {
        for good in ["512Mi", "1Gi", "1.5Gi", "1000000", "2G"] {
            memory("--memory", good).unwrap();
        }
        for bad in ["", "0Gi", "Gi", "1GB", "-1Gi", "1e3", "1 Gi"] {
            assert!(memory("--memory", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        name("--name", "load-forecasting").unwrap();
        for bad in ["", "Upper", "-a", "a-", "1abc", "a_b", &"a".repeat(64)] {
            assert!(name("--name", bad).is_err(), "{bad:?}");
        }
    }
}
