//! The container settings that `deploy kubernetes` and `deploy kserve` share: resources, probes on the
//! health routes, the drain flags and a locked-down security context, so both drain and start the same way.

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

use super::checks;

/// The user and group the images run as (the Dockerfile's `useradd --uid`).
pub const RUN_AS: u32 = 10001;

/// Seconds between two probes of one kind.
const PROBE_PERIOD_SECS: u32 = 5;

/// Seconds of the grace period beyond preStop, the drain delay and the longest request: time for the
/// workers to stop and the process to exit before the kubelet's SIGKILL.
const GRACE_MARGIN_SECS: u32 = 5;

/// Resources and drain timing of the serving container.
#[derive(Debug, Args)]
pub struct PodArgs {
    /// CPU request (the autoscaler's 100 %), e.g. 500m or 1.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub cpu: String,
    /// CPU limit, at or above `--cpu`.
    #[arg(long, default_value = "2", allow_hyphen_values = true)]
    pub cpu_limit: String,
    /// Memory request and limit (equal, so a replica is never killed for memory it was promised).
    #[arg(long, default_value = "1Gi", allow_hyphen_values = true)]
    pub memory: String,
    /// Seconds the model may take to load before the startup probe gives up and the pod restarts.
    #[arg(long, default_value_t = 600, allow_negative_numbers = true)]
    pub startup_timeout_secs: u32,
    /// Seconds the preStop hook sleeps before SIGTERM, while endpoints stop sending traffic.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub pre_stop_secs: u32,
    /// Seconds the server keeps serving after SIGTERM with readiness at 503
    /// (the server's `--shutdown-delay-secs`).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    pub shutdown_delay_secs: u32,
    /// Seconds in-flight requests get once the listener has closed: the longest request
    /// (the server's `--shutdown-timeout-secs`).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true)]
    pub shutdown_timeout_secs: u32,
}

impl PodArgs {
    /// Refuses values the cluster or the server would refuse.
    pub fn check(&self) -> Result<()> {
        let request = checks::cpu_millis("--cpu", &self.cpu)?;
        let limit = checks::cpu_millis("--cpu-limit", &self.cpu_limit)?;
        if limit < request {
            bail!("`--cpu-limit` {} is below `--cpu` {}", self.cpu_limit, self.cpu);
        }
        checks::memory("--memory", &self.memory)?;
        checks::at_least("--startup-timeout-secs", self.startup_timeout_secs, PROBE_PERIOD_SECS)?;
        checks::at_least("--shutdown-timeout-secs", self.shutdown_timeout_secs, 1)?;
        checks::at_least("--pre-stop-secs", self.pre_stop_secs, 1)?;
        Ok(())
    }

    /// The pod's `terminationGracePeriodSeconds`: the kubelet's SIGKILL comes this many seconds after
    /// the pod starts terminating, so it covers the preStop sleep and the whole drain.
    pub fn grace_secs(&self) -> u32 {
        self.pre_stop_secs + self.shutdown_delay_secs + self.shutdown_timeout_secs + GRACE_MARGIN_SECS
    }

    /// How `grace_secs` was added up, for the generated file's header comment.
    pub fn grace_comment(&self) -> String {
        format!(
            "terminationGracePeriodSeconds {} = preStop sleep {} + --shutdown-delay-secs {} \
             + --shutdown-timeout-secs {} + {GRACE_MARGIN_SECS} s to exit.\n\
             lifecycle.preStop.sleep needs Kubernetes 1.30 or later (beta, on by default; GA in 1.34).",
            self.grace_secs(),
            self.pre_stop_secs,
            self.shutdown_delay_secs,
            self.shutdown_timeout_secs,
        )
    }

    /// The container's `lifecycle`: Kubernetes removes a terminating pod from the endpoints while the
    /// preStop hook sleeps, so traffic still on its way is served before SIGTERM starts the drain.
    pub fn lifecycle(&self) -> Value {
        json!({"preStop": {"sleep": {"seconds": self.pre_stop_secs}}})
    }

    /// The server flags of the drain, for the container's args.
    pub fn drain_args(&self) -> Vec<String> {
        vec![
            "--shutdown-delay-secs".into(),
            self.shutdown_delay_secs.to_string(),
            "--shutdown-timeout-secs".into(),
            self.shutdown_timeout_secs.to_string(),
        ]
    }

    /// `resources` of the container: the requests the autoscaler measures against, and the limits.
    pub fn resources(&self) -> Value {
        json!({
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory},
        })
    }

    /// Readiness, liveness and startup probes on `ready` and `live`, at `port` (a number or a port name).
    ///
    /// Readiness turns 503 while the model loads and from the first moment of a drain; liveness stays
    /// 200 while the process serves, so the kubelet restarts only a server that stopped answering. The
    /// startup probe holds liveness off until the model is ready, and restarts a pod whose model never
    /// loads within `--startup-timeout-secs`.
    pub fn probes(&self, ready: &str, live: &str, port: Value) -> Value {
        let get = |path: &str| json!({"path": path, "port": port});
        json!({
            "readinessProbe": {"httpGet": get(ready), "periodSeconds": PROBE_PERIOD_SECS,
                               "timeoutSeconds": 2, "failureThreshold": 2},
            "livenessProbe": {"httpGet": get(live), "periodSeconds": 10, "timeoutSeconds": 5,
                              "failureThreshold": 3},
            "startupProbe": {"httpGet": get(ready), "periodSeconds": PROBE_PERIOD_SECS, "timeoutSeconds": 2,
                             "failureThreshold": self.startup_timeout_secs.div_ceil(PROBE_PERIOD_SECS)},
        })
    }
}

/// The pod's security context: never root, the runtime's default seccomp profile.
pub fn pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The container's security context: no privilege escalation, no capabilities, a read-only root
/// filesystem (the server writes nothing outside /tmp, which is an emptyDir).
pub fn container_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
    })
}

/// The pod's volumes: `/tmp` as an emptyDir, the one writable place under the read-only root
/// filesystem (Python workers keep their private directories there).
pub fn volumes() -> Value {
    json!([{"name": "tmp", "emptyDir": {}}])
}

/// The container's mounts of `volumes`.
pub fn volume_mounts() -> Value {
    json!([{"name": "tmp", "mountPath": "/tmp"}])
}

/// Adds the entries of `extra` (an object) to `object` (an object).
pub fn merge(mut object: Value, extra: Value) -> Value {
    if let (Some(object), Value::Object(extra)) = (object.as_object_mut(), extra) {
        object.extend(extra);
    }
    object
}
