//! A command's answer (`CommandResponse`): its data in insertion order, the primary name, an
//! error or null, and (3.9) an HTTP status and extra headers. ZooKeeper answers errors of the
//! commands themselves with status 200 and the message in `error`; only 3.9's authentication,
//! rate limiting and feature switches use other statuses.

use crate::admin::json::Json;

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub command: String,
    pub error: Option<String>,
    pub data: Vec<(String, Json)>,
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// A successful answer with no data yet.
    pub fn ok(command: &str) -> Response {
        Response {
            status: 200,
            command: command.to_owned(),
            error: None,
            data: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// An error answer: `new CommandResponse(cmdName, error, status)`.
    pub fn error(command: &str, error: impl Into<String>, status: u16) -> Response {
        Response { error: Some(error.into()), ..Response::ok(command).with_status(status) }
    }

    pub fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// `response.put(key, value)`: replaces an earlier value in place, else appends.
    pub fn put(&mut self, key: &str, value: impl Into<Json>) {
        let value = value.into();
        match self.data.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value,
            None => self.data.push((key.to_owned(), value)),
        }
    }

    /// `CommandResponse.toMap`: the data, then `command` and `error` unless the data already
    /// holds those keys (a command that puts its own `error` keeps it in its place).
    pub fn to_json(&self) -> Json {
        let mut fields = self.data.clone();
        if !fields.iter().any(|(k, _)| k == "command") {
            fields.push(("command".to_owned(), Json::str(&self.command)));
        }
        if !fields.iter().any(|(k, _)| k == "error") {
            let error = self.error.as_ref().map_or(Json::Null, Json::str);
            fields.push(("error".to_owned(), error));
        }
        Json::Obj(fields)
    }
}

impl From<Vec<(String, Json)>> for Json {
    fn from(fields: Vec<(String, Json)>) -> Json {
        Json::Obj(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_and_error_come_last_unless_put_before() {
        let mut r = Response::ok("get_trace_mask");
        r.put("tracemask", 306i64);
        assert_eq!(
            r.to_json().pretty(),
            "{\n  \"tracemask\" : 306,\n  \"command\" : \"get_trace_mask\",\n  \"error\" : null\n}"
        );
        // SetTraceMaskCommand puts its error first: it stays first, before "command".
        let mut r = Response::ok("set_trace_mask");
        r.put("error", "setTraceMask requires long traceMask argument");
        assert_eq!(
            r.to_json().pretty(),
            "{\n  \"error\" : \"setTraceMask requires long traceMask argument\",\n  \"command\" : \"set_trace_mask\"\n}"
        );
        let r = Response::error("nope", "Unknown command: nope", 200);
        assert_eq!(
            r.to_json().pretty(),
            "{\n  \"command\" : \"nope\",\n  \"error\" : \"Unknown command: nope\"\n}"
        );
    }
}
