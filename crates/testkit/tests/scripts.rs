//! The local infrastructure scripts survive the races the tests put them through.

use std::{
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

const NODE: &str = "pbscripttest@localhost";

/// A broker deletes its pid file while it shuts down, at any moment between `rabbitmq.sh stop`
/// seeing the file and reading it; the flaky relay test
/// (`events_written_while_rabbitmq_is_down_are_all_delivered_once_after_it_returns`) died of
/// exactly that: the script exited 1 with "rabbit.pid: No such file or directory".
///
/// Here a stand-in for the broker's start-up wrapper (a process carrying the node's name that
/// ignores SIGTERM for a moment) keeps `stop` polling, while `rabbit.pid` comes and goes in a
/// tight loop. Every `stop` must wait the stand-in out and succeed.
#[test]
fn rabbitmq_sh_stop_survives_the_pid_file_vanishing_while_it_reads_it() {
    let dir = std::env::temp_dir().join(testkit::unique_name("postbridge-script-test"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("nodename"), format!("{NODE}\n")).unwrap();
    let pid_file = dir.join("rabbit.pid");
    let stop_churn = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop_churn = stop_churn.clone();
        let pid_file = pid_file.clone();
        // Any live pid will do: it is not our node's, so the script must treat it as absent.
        let pid = format!("{}\n", std::process::id());
        std::thread::spawn(move || {
            while !stop_churn.load(Ordering::Relaxed) {
                let _ = std::fs::write(&pid_file, &pid);
                let _ = std::fs::remove_file(&pid_file);
            }
        })
    };
    let script = testkit::workspace_root().join("deploy/local/rabbitmq.sh");
    let mut failures = Vec::new();
    for _ in 0..4 {
        let mut wrapper = Command::new("bash")
            .args(["-c", "trap '' TERM; sleep 1.5"])
            .env("RABBITMQ_NODENAME", NODE)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the stand-in");
        std::fs::write(dir.join("server.pid"), format!("{}\n", wrapper.id())).unwrap();
        let out = Command::new("bash")
            .arg(&script)
            .arg("stop")
            .arg(&dir)
            .output()
            .expect("run rabbitmq.sh");
        let _ = wrapper.kill();
        let _ = wrapper.wait();
        if !out.status.success() {
            failures.push(format!(
                "{:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    stop_churn.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} of 4 `rabbitmq.sh stop` runs failed, e.g. {}",
        failures.len(),
        failures.first().map_or("", String::as_str)
    );
}
