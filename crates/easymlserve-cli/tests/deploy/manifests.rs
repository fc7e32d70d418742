//! The shape of what `easymlserve deploy` writes, read back as JSON: the kinds on standard output, the
//! drain settings both cluster targets share, and the writable /tmp under a read-only root filesystem.

use serde_json::Value;

use super::{documents, easymlserve, generated};

#[test]
fn standard_output_gets_the_manifest_when_there_is_no_out() {
    let output = easymlserve(&[
        "deploy",
        "kubernetes",
        "--name",
        "demo",
        "--image",
        "example/demo:1",
        "--model-dir",
        "/models",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let kinds: Vec<_> = documents(&text)
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget"
        ]
    );
    let deployment = &documents(&text)[0];
    let pod = &deployment["spec"]["template"]["spec"];
    // 5 s preStop + 5 s drain delay + 30 s in-flight + 5 s to exit, the defaults.
    assert_eq!(pod["terminationGracePeriodSeconds"], 45);
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
}

/// The manifest `args` print on standard output, as JSON documents.
fn printed(args: &[&str]) -> Vec<Value> {
    let output = easymlserve(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    documents(&String::from_utf8(output.stdout).unwrap())
}

#[test]
fn the_kserve_pod_gets_the_grace_period_and_pre_stop_of_the_deployment() {
    // A long drain: Kubernetes' 30 s default grace period would SIGKILL the server in its middle.
    let drain = [
        "--pre-stop-secs",
        "7",
        "--shutdown-delay-secs",
        "3",
        "--shutdown-timeout-secs",
        "100",
    ];
    let k8s = printed(
        &[
            &[
                "deploy",
                "kubernetes",
                "--name",
                "demo",
                "--image",
                "example/demo:1",
                "--model-dir",
                "/m",
            ][..],
            &drain,
        ]
        .concat(),
    );
    let kserve = printed(
        &[
            &["deploy", "kserve", "--name", "demo", "--image", "example/demo:1"][..],
            &["--storage-uri", "s3://bucket/demo"],
            &drain,
        ]
        .concat(),
    );
    let pod = &k8s[0]["spec"]["template"]["spec"];
    assert_eq!(pod["terminationGracePeriodSeconds"], 7 + 3 + 100 + 5);
    let (runtime, service) = (&kserve[0], &kserve[1]);
    assert_eq!(
        (runtime["kind"].as_str(), service["kind"].as_str()),
        (Some("ServingRuntime"), Some("InferenceService"))
    );
    // The predictor embeds the pod's fields; KServe copies them into the pod it makes in Standard mode.
    assert_eq!(
        service["spec"]["predictor"]["terminationGracePeriodSeconds"],
        pod["terminationGracePeriodSeconds"]
    );
    assert_eq!(
        service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"],
        "Standard"
    );
    assert_eq!(
        runtime["spec"]["containers"][0]["lifecycle"],
        pod["containers"][0]["lifecycle"]
    );
    assert_eq!(
        runtime["spec"]["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"],
        7
    );
}

#[test]
fn every_read_only_container_can_write_to_tmp() {
    let mut checked = Vec::new();
    for (path, text) in generated("tmp") {
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        for doc in documents(&text) {
            let pod = match doc["kind"].as_str().unwrap() {
                "Deployment" => &doc["spec"]["template"]["spec"],
                "ServingRuntime" => &doc["spec"],
                _ => continue,
            };
            for container in pod["containers"].as_array().unwrap() {
                assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
                let mounts = container["volumeMounts"].as_array();
                let tmp = mounts
                    .and_then(|m| m.iter().find(|m| m["mountPath"] == "/tmp"))
                    .unwrap_or_else(|| panic!("{}: {} has no /tmp mount", path.display(), doc["kind"]));
                let volume = pod["volumes"]
                    .as_array()
                    .and_then(|v| v.iter().find(|v| v["name"] == tmp["name"]))
                    .unwrap_or_else(|| panic!("{}: no volume {}", path.display(), tmp["name"]));
                assert!(volume["emptyDir"].is_object(), "{volume}");
                checked.push(doc["kind"].as_str().unwrap().to_owned());
            }
        }
    }
    checked.sort();
    assert_eq!(checked, ["Deployment", "Deployment", "ServingRuntime"]);
}
