//! JSON batching (https://learn.microsoft.com/graph/json-batching): up to
//! 20 requests in one `POST /v1.0/$batch`, answered in one `responses`
//! array, each with its own `status`, matched to its request by `id`.
//!
//! Requests in a batch are throttled one by one ("Throttling and
//! batching", https://learn.microsoft.com/graph/throttling): a throttled
//! one answers 429 with its own `Retry-After` (and the batch itself may
//! answer 424), and is not retried for us, whoever sends the batch. So
//! those, and those answering 502/503/504, are sent again in a new batch
//! after the longest wait asked, up to [`MAX_RETRIES`] times each, while
//! the waits of one call stay within [`WAIT_BUDGET_SECS`]; what is still
//! throttled then comes back as throttled. The batches of one call are
//! independent requests, sent in parallel (no `dependsOn`).
//!
//! A batch that fails as a whole (refused, malformed, lost) stops the
//! call: the requests of the batches not yet sent get the same failure.

use crate::{Graph, Reply};
use allsync_sdk::Error;
use allsync_sdk::http::{Request, send_all};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// The most requests Graph takes in one batch.
pub const BATCH_SIZE: usize = 20;
/// How many times one request is sent again after a throttled answer.
pub const MAX_RETRIES: u32 = 4;
/// The most seconds one call waits for throttled requests, in all, so it
/// ends well within the host's call timeout (60 s by default).
pub const WAIT_BUDGET_SECS: u32 = 30;

/// One request inside a batch: a method, a URL relative to the version
/// (`/groups/{id}/members/$ref`), and a JSON body.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    method: &'static str,
    url: String,
    body: Option<Value>,
}

impl BatchRequest {
    /// A `GET` of `url`.
    pub fn get(url: String) -> Self {
        BatchRequest {
            method: "GET",
            url,
            body: None,
        }
    }

    /// A `POST` of `body` to `url`.
    pub fn post(url: String, body: Value) -> Self {
        BatchRequest {
            method: "POST",
            url,
            body: Some(body),
        }
    }

    /// A `DELETE` of `url`.
    pub fn delete(url: String) -> Self {
        BatchRequest {
            method: "DELETE",
            url,
            body: None,
        }
    }

    /// The request as the batch's `requests` array holds it.
    fn to_json(&self, id: usize) -> Value {
        let mut request = json!({ "id": id.to_string(), "method": self.method, "url": self.url });
        if let Some(body) = &self.body {
            request["body"] = body.clone();
            request["headers"] = json!({ "Content-Type": "application/json" });
        }
        request
    }
}

#[derive(Deserialize)]
struct Answers {
    responses: Vec<Answer>,
}

/// One item of a batch's `responses`.
#[derive(Deserialize)]
struct Answer {
    id: String,
    status: u16,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Value,
}

impl From<Answer> for Reply {
    fn from(answer: Answer) -> Self {
        let headers = answer
            .headers
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => (name, text),
                other => (name, other.to_string()),
            })
            .collect();
        Reply {
            status: answer.status,
            headers,
            body: answer.body,
        }
    }
}

/// A throttled answer to send again, and how long it asks to wait.
struct Throttled {
    index: usize,
    reply: Reply,
    wait: u32,
}

/// Where one call's batches stand.
struct Progress {
    answers: Vec<Option<Result<Reply, Error>>>,
    /// How many times each request was sent again.
    retries: Vec<u32>,
    /// The seconds waited so far.
    waited: u32,
    /// The failure that stopped the call, if one did.
    stopped: Option<Error>,
    /// Answers to send again after the round.
    throttled: Vec<Throttled>,
}

impl Graph {
    /// Sends `requests` in batches of [`BATCH_SIZE`], `concurrency`
    /// batches at a time, and returns each one's answer in order (a
    /// throttled answer only once it has been sent again as often as
    /// allowed). `what` names the operation in errors.
    pub fn batch(&self, requests: &[BatchRequest], what: &str) -> Vec<Result<Reply, Error>> {
        let mut progress = Progress {
            answers: requests.iter().map(|_| None).collect(),
            retries: vec![0; requests.len()],
            waited: 0,
            stopped: None,
            throttled: Vec::new(),
        };
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        while !pending.is_empty() {
            self.send_round(requests, &pending, &mut progress, what);
            pending = progress.wait_for_throttled();
        }
        progress
            .answers
            .into_iter()
            .map(|answer| answer.expect("every request is answered"))
            .collect()
    }

    /// Sends the `pending` requests once, in batches.
    fn send_round(
        &self,
        requests: &[BatchRequest],
        pending: &[usize],
        progress: &mut Progress,
        what: &str,
    ) {
        let chunks: Vec<&[usize]> = pending.chunks(BATCH_SIZE).collect();
        for wave in chunks.chunks(self.concurrency) {
            if let Some(error) = &progress.stopped {
                let error = error.clone();
                wave.iter().for_each(|chunk| progress.fail(chunk, &error));
                continue;
            }
            let sending: Vec<Request> = wave
                .iter()
                .map(|chunk| self.batch_request(requests, chunk))
                .collect();
            for (chunk, response) in wave.iter().zip(send_all(sending, self.concurrency)) {
                match response {
                    Ok(response) => self.settle(chunk, Reply::from(response), progress, what),
                    Err(error) => progress.stop(chunk, error),
                }
            }
        }
    }

    /// The `POST /$batch` of the requests at `chunk`, numbered from 1.
    fn batch_request(&self, requests: &[BatchRequest], chunk: &[usize]) -> Request {
        let batch: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(position, &index)| requests[index].to_json(position + 1))
            .collect();
        let request = Request::post(&self.url("/$batch"))
            .header("content-type", "application/json")
            .body(json!({ "requests": batch }).to_string().into_bytes());
        self.authorize(request)
    }

    /// Notes the answers of the batch of `chunk`.
    fn settle(&self, chunk: &[usize], reply: Reply, progress: &mut Progress, what: &str) {
        if let Ok(answers) = reply.json::<Answers>(what) {
            let mut by_id: HashMap<String, Answer> = answers
                .responses
                .into_iter()
                .map(|answer| (answer.id.clone(), answer))
                .collect();
            for (position, &index) in chunk.iter().enumerate() {
                let id = (position + 1).to_string();
                match by_id.remove(&id) {
                    Some(answer) => progress.note(index, Reply::from(answer)),
                    None => {
                        progress.answers[index] = Some(Err(Error::Other(format!(
                            "{what}: Graph's $batch answer has no response for request {id}"
                        ))))
                    }
                }
            }
        } else if retry_wait(&reply, 0).is_some() {
            chunk
                .iter()
                .for_each(|&index| progress.note(index, reply.clone()));
        } else {
            progress.stop(chunk, self.failure(&reply, &format!("{what} ($batch)")));
        }
    }
}

impl Progress {
    /// Notes the answer to request `index`: final, or throttled and to be
    /// sent again.
    fn note(&mut self, index: usize, reply: Reply) {
        match retry_wait(&reply, self.retries[index]) {
            Some(wait) if self.retries[index] < MAX_RETRIES => {
                self.throttled.push(Throttled { index, reply, wait })
            }
            _ => self.answers[index] = Some(Ok(reply)),
        }
    }

    fn fail(&mut self, chunk: &[usize], error: &Error) {
        for &index in chunk {
            self.answers[index] = Some(Err(error.clone()));
        }
    }

    fn stop(&mut self, chunk: &[usize], error: Error) {
        self.fail(chunk, &error);
        self.stopped.get_or_insert(error);
    }

    /// Waits as long as the throttled answers ask, and returns the
    /// requests to send again; none when the call has stopped or the wait
    /// is over budget (their throttled answers then stand).
    fn wait_for_throttled(&mut self) -> Vec<usize> {
        let throttled = std::mem::take(&mut self.throttled);
        let wait = throttled.iter().map(|t| t.wait).max().unwrap_or(0);
        if let Some(error) = self.stopped.clone() {
            throttled
                .iter()
                .for_each(|t| self.answers[t.index] = Some(Err(error.clone())));
            return Vec::new();
        }
        if throttled.is_empty() || self.waited + wait > WAIT_BUDGET_SECS {
            for t in throttled {
                self.answers[t.index] = Some(Ok(t.reply));
            }
            return Vec::new();
        }
        eprintln!(
            "Graph throttled {} request(s) of a $batch (HTTP {}): sending them again in {wait} s",
            throttled.len(),
            throttled[0].reply.status
        );
        std::thread::sleep(Duration::from_secs(wait.into()));
        self.waited += wait;
        throttled
            .into_iter()
            .map(|t| {
                self.retries[t.index] += 1;
                t.index
            })
            .collect()
    }
}

/// The seconds to wait before sending a throttled or unavailable request
/// again (its `Retry-After`, else 1 s doubling with each retry), if it is one.
fn retry_wait(reply: &Reply, retries: u32) -> Option<u32> {
    let backoff = 1u32 << retries.min(5);
    match reply.status {
        429 | 502 | 503 | 504 => Some(reply.retry_after().unwrap_or(backoff)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, retry_after: Option<&str>) -> Reply {
        Reply {
            status,
            headers: retry_after
                .map(|wait| vec![("Retry-After".to_string(), wait.to_string())])
                .unwrap_or_default(),
            body: Value::Null,
        }
    }

    fn progress(requests: usize) -> Progress {
        Progress {
            answers: (0..requests).map(|_| None).collect(),
            retries: vec![0; requests],
            waited: 0,
            stopped: None,
            throttled: Vec::new(),
        }
    }

    #[test]
    fn a_request_in_a_batch_carries_a_body_only_with_its_content_type() {
        let post = BatchRequest::post(
            "/groups/g1/members/$ref".into(),
            json!({ "@odata.id": "x" }),
        );
        assert_eq!(
            post.to_json(3),
            json!({ "id": "3", "method": "POST", "url": "/groups/g1/members/$ref",
                    "body": { "@odata.id": "x" }, "headers": { "Content-Type": "application/json" } })
        );
        assert_eq!(
            BatchRequest::delete("/groups/g1/members/u1/$ref".into()).to_json(1),
            json!({ "id": "1", "method": "DELETE", "url": "/groups/g1/members/u1/$ref" })
        );
    }

    #[test]
    fn throttled_and_unavailable_answers_are_sent_again_after_the_longest_wait() {
        assert_eq!(retry_wait(&reply(429, Some("2")), 0), Some(2));
        assert_eq!(retry_wait(&reply(503, None), 2), Some(4), "backoff doubles");
        assert_eq!(retry_wait(&reply(400, None), 0), None);
        let mut progress = progress(3);
        progress.note(0, reply(429, Some("0")));
        progress.note(1, reply(204, None));
        progress.note(2, reply(503, Some("0")));
        assert_eq!(progress.wait_for_throttled(), [0, 2]);
        assert_eq!(progress.retries, [1, 0, 1]);
        assert!(matches!(&progress.answers[1], Some(Ok(r)) if r.status == 204));
    }

    #[test]
    fn a_request_throttled_too_often_or_too_long_keeps_its_throttled_answer() {
        let mut progress = progress(2);
        progress.retries[0] = MAX_RETRIES;
        progress.note(0, reply(429, Some("0")));
        progress.note(1, reply(429, Some("31")));
        assert_eq!(progress.wait_for_throttled(), Vec::<usize>::new());
        for answer in &progress.answers {
            assert!(matches!(answer, Some(Ok(r)) if r.status == 429));
        }
    }

    fn graph() -> Graph {
        Graph::from_config(&allsync_sdk::Config::default(), "GroupMember.ReadWrite.All").unwrap()
    }

    #[test]
    fn a_batchs_answers_are_matched_by_id_whatever_the_envelopes_status() {
        let mut progress = progress(3);
        let envelope = Reply {
            status: 424,
            headers: Vec::new(),
            body: json!({ "responses": [
                { "id": "2", "status": 204 },
                { "id": "1", "status": 400, "body": { "error": { "code": "Request_BadRequest", "message": "no" } } },
            ] }),
        };
        graph().settle(&[0, 1, 2], envelope, &mut progress, "add members");
        assert!(matches!(&progress.answers[0], Some(Ok(r)) if r.status == 400));
        assert!(matches!(&progress.answers[1], Some(Ok(r)) if r.status == 204));
        assert!(matches!(&progress.answers[2], Some(Err(Error::Other(m)))
            if m == "add members: Graph's $batch answer has no response for request 3"));
        assert!(progress.stopped.is_none());
    }

    #[test]
    fn a_batch_refused_as_a_whole_stops_the_call() {
        let mut progress = progress(2);
        let envelope = Reply {
            status: 401,
            headers: Vec::new(),
            body: json!({ "error": { "code": "InvalidAuthenticationToken", "message": "Access token is empty." } }),
        };
        graph().settle(&[0, 1], envelope, &mut progress, "add members");
        for answer in &progress.answers {
            assert!(matches!(answer, Some(Err(Error::Unauthorized(m)))
                if m.starts_with("add members ($batch): HTTP 401 InvalidAuthenticationToken: Access token is empty.")));
        }
        assert!(progress.stopped.is_some());
    }

    #[test]
    fn a_stopped_call_sends_nothing_more_and_says_why() {
        let mut progress = progress(3);
        progress.note(2, reply(429, Some("0")));
        progress.stop(&[0, 1], Error::Unauthorized("bad token".into()));
        assert_eq!(progress.wait_for_throttled(), Vec::<usize>::new());
        for answer in &progress.answers {
            assert!(matches!(answer, Some(Err(Error::Unauthorized(m))) if m == "bad token"));
        }
    }
}
