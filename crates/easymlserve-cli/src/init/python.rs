//! The Python template: an SDK service with pydantic request and response models (`service.py`), its
//! requirements (pydantic, pinned), a README with the serve command, and a standard-library test of the
//! running service over HTTP (`test_service.py`).

use super::{File, fill};

const SERVICE_PY: &str = include_str!("../../templates/python/service.py");
const REQUIREMENTS: &str = include_str!("../../templates/python/requirements.txt");
const README: &str = include_str!("../../templates/python/README.md");
const TEST_PY: &str = include_str!("../../templates/python/test_service.py");

/// The project's files.
pub(super) fn files(name: &str) -> (Vec<File>, String) {
    let class = class_name(name);
    let values = [("name", name), ("class", class.as_str())];
    let files = vec![
        File::text("service.py", fill(SERVICE_PY, &values)),
        File::text("requirements.txt", fill(REQUIREMENTS, &values)),
        File::text("README.md", fill(README, &values)),
        File::text("test_service.py", fill(TEST_PY, &values)),
        File::text(".gitignore", ".venv/\n__pycache__/\n".to_owned()),
    ];
    let next = format!(
        "  cd {name}\n  python3 -m venv .venv && .venv/bin/pip install -r requirements.txt\n  \
         easymlserve serve --python service.py --python-bin .venv/bin/python    # then open http://127.0.0.1:8000/ui/"
    );
    (files, next)
}

/// `my-model` → `MyModel`: the service's class name.
fn class_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn class_names_are_camel_case() {
        assert_eq!(super::class_name("my-model_v2"), "MyModelV2");
        assert_eq!(super::class_name("iris"), "Iris");
    }
}
