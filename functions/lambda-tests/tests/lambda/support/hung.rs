//! [`HungEndpoint`]: an endpoint that takes connections and never answers, as an AWS service does
//! during a network partition or an overloaded front end: only a client's own timeouts end a call.

use tokio::net::TcpListener;

/// A loopback listener that accepts every connection and keeps it open without a byte in reply.
pub struct HungEndpoint {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl HungEndpoint {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("bound address");
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Self {
            url: format!("http://{address}"),
            task,
        }
    }

    /// Its URL, to use as an AWS endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for HungEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}
