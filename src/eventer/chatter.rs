//! The chatter layer of the eventer protocol (hat-drivers'
//! `hat.drivers.chatter`): `HatChatter.Msg` records and their framing.
//!
//! A frame is one byte giving the length of the length, the length as a
//! big-endian unsigned integer, then the SBS encoding of
//! `HatChatter.Msg` = Record {id: Integer, first: Integer, owner: Boolean,
//! token: Boolean, last: Boolean, data: Data}, where `Data` = Record {type:
//! String, data: Bytes} names the payload's SBS type and carries its bytes.

use std::net::TcpStream;
use std::time::Duration;

use crate::sbs::{self, Decoder, Sbs, SbsError};

/// The data type of a ping request (no payload).
pub const PING: &str = "HatChatter.Ping";
/// The data type of a ping response (no payload).
pub const PONG: &str = "HatChatter.Pong";

/// One `HatChatter.Msg`.
///
/// A conversation is named by the id of its first message and by which
/// side opened it: `owner` is true on the messages the opening side sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatterMsg {
    pub id: i64,
    pub first: i64,
    pub owner: bool,
    pub token: bool,
    pub last: bool,
    pub data_type: String,
    pub data: Vec<u8>,
}

impl Sbs for ChatterMsg {
    const MIN_LEN: usize = 7;
    fn encode(&self, out: &mut Vec<u8>) -> sbs::Result<()> {
        sbs::write_integer(out, self.id);
        sbs::write_integer(out, self.first);
        sbs::write_boolean(out, self.owner);
        sbs::write_boolean(out, self.token);
        sbs::write_boolean(out, self.last);
        sbs::write_string(out, &self.data_type);
        sbs::write_bytes(out, &self.data);
        Ok(())
    }
    fn decode(d: &mut Decoder<'_>) -> sbs::Result<ChatterMsg> {
        Ok(ChatterMsg {
            id: d.read_integer()?,
            first: d.read_integer()?,
            owner: d.read_boolean()?,
            token: d.read_boolean()?,
            last: d.read_boolean()?,
            data_type: d.read_string()?,
            data: d.read_bytes()?.to_vec(),
        })
    }
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("malformed frame: length of length is 0")]
    ZeroLengthOfLength,
    /// The length field announces more than `limit` bytes: `len` is the
    /// announced length, `None` if it is 2^128 or more (a field of up to
    /// 255 bytes can announce far more than any integer holds).
    #[error("oversized frame: {} announced by a length field of {field_len} bytes, the limit is {limit}", announced(*.len))]
    Oversized { len: Option<u128>, field_len: usize, limit: usize },
    #[error("malformed frame: empty message")]
    Empty,
    #[error("malformed frame: {0}")]
    Message(#[from] SbsError),
}

fn announced(len: Option<u128>) -> String {
    match len {
        Some(len) => format!("{len} bytes"),
        None => "2^128 bytes or more".into(),
    }
}

/// Appends the frame of `msg` to `out`.
pub fn write_frame(out: &mut Vec<u8>, msg: &ChatterMsg) {
    let mut body = Vec::with_capacity(32 + msg.data_type.len() + msg.data.len());
    // Encoding a ChatterMsg cannot fail: it has no JSON in it.
    let _ = msg.encode(&mut body);
    let len = body.len() as u64;
    // At least one length byte, as hat's `_uint_to_bebytes` writes for 0.
    let len_len = (8 - (len.leading_zeros() / 8) as usize).max(1);
    out.push(len_len as u8);
    out.extend_from_slice(&len.to_be_bytes()[8 - len_len..]);
    out.extend_from_slice(&body);
}

/// Parses the frame at the start of `buf`: `Ok(None)` if more bytes are
/// needed, else the message and the bytes it took. A frame announcing more
/// than `limit` bytes is refused as soon as its header is complete, before
/// its body arrives.
pub fn parse_frame(buf: &[u8], limit: usize) -> Result<Option<(ChatterMsg, usize)>, FrameError> {
    let Some(&len_len) = buf.first() else { return Ok(None) };
    let len_len = len_len as usize;
    if len_len == 0 {
        return Err(FrameError::ZeroLengthOfLength);
    }
    let Some(len_bytes) = buf.get(1..1 + len_len) else { return Ok(None) };
    // Leading zero bytes are allowed (hat reads any big-endian width).
    let significant = &len_bytes[len_bytes.iter().take_while(|&&b| b == 0).count()..];
    let announced = (significant.len() <= 16).then(|| significant.iter().fold(0u128, |a, &b| (a << 8) | u128::from(b)));
    let len = match announced {
        Some(len) if len <= limit as u128 => len as usize,
        _ => return Err(FrameError::Oversized { len: announced, field_len: len_len, limit }),
    };
    if len == 0 {
        return Err(FrameError::Empty);
    }
    let start = 1 + len_len;
    let Some(body) = buf.get(start..start + len) else { return Ok(None) };
    let msg = sbs::decode_exact::<ChatterMsg>(body)?;
    Ok(Some((msg, start + len)))
}

/// A socket's read timeout, set only when the one wanted differs enough
/// from the one in force: `setsockopt` on every read would be a system
/// call per message. A timeout in force may end a read early (up to half
/// the time wanted, the caller just reads again) or a little late (by at
/// most [`ReadTimeout::SLACK_DIVISOR`]th of the time wanted, at most
/// [`ReadTimeout::MAX_SLACK`]): ping timers need no more precision.
#[derive(Debug, Default)]
pub struct ReadTimeout {
    /// What the socket has; `None` until first set.
    in_force: Option<Option<Duration>>,
}

impl ReadTimeout {
    pub const SLACK_DIVISOR: u32 = 64;
    pub const MAX_SLACK: Duration = Duration::from_millis(10);
    /// A zero timeout means "block" to the socket: the shortest wait.
    pub const FLOOR: Duration = Duration::from_millis(1);

    /// Makes the next read on `stream` wait about `want` (`None`: block).
    pub fn apply(&mut self, stream: &TcpStream, want: Option<Duration>) -> std::io::Result<()> {
        let want = want.map(|w| w.max(Self::FLOOR));
        if !self.in_force.is_some_and(|set| Self::close_enough(set, want)) {
            stream.set_read_timeout(want)?;
            self.in_force = Some(want);
        }
        Ok(())
    }

    fn close_enough(set: Option<Duration>, want: Option<Duration>) -> bool {
        match (set, want) {
            (None, None) => true,
            (Some(set), Some(want)) => {
                let slack = (want / Self::SLACK_DIVISOR).min(Self::MAX_SLACK);
                set <= want + slack && set >= want / 2
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: Vec<u8>) -> ChatterMsg {
        ChatterMsg { id: 1, first: 1, owner: true, token: true, last: false, data_type: PING.into(), data }
    }

    #[test]
    fn a_read_timeout_is_reset_only_when_it_would_be_late_or_far_too_early() {
        let close = ReadTimeout::close_enough;
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert!(close(Some(s(20)), Some(s(20) - ms(1))), "a millisecond late on 20 s");
        assert!(!close(Some(s(20)), Some(s(19))), "a second late");
        assert!(close(Some(ms(100)), Some(ms(101))), "a little early");
        assert!(!close(Some(s(20)), Some(ms(5))), "far too late");
        assert!(!close(Some(ms(5)), Some(s(20))), "far too early");
        assert!(close(None, None) && !close(None, Some(s(1))) && !close(Some(s(1)), None));
        // A socket's timeout follows: checked through the real option.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut t = ReadTimeout::default();
        t.apply(&stream, Some(s(20))).unwrap();
        t.apply(&stream, Some(s(20) - ms(3))).unwrap();
        assert_eq!(stream.read_timeout().unwrap(), Some(s(20)));
        t.apply(&stream, Some(Duration::ZERO)).unwrap();
        // the kernel rounds up to its clock tick
        assert!(stream.read_timeout().unwrap().is_some_and(|t| t < ms(20)));
        t.apply(&stream, None).unwrap();
        assert_eq!(stream.read_timeout().unwrap(), None);
    }

    #[test]
    fn frame_bytes_match_hat_chatter() {
        // hat.drivers.chatter: _sbs_repo.encode('HatChatter.Msg', {'id': 1,
        // 'first': 1, 'owner': True, 'token': True, 'last': False, 'data':
        // {'type': 'HatChatter.Ping', 'data': b''}}), framed by Connection._write.
        let mut expected = vec![0x01, 0x16, 0x81, 0x81, 0x01, 0x01, 0x00, 0x8f];
        expected.extend_from_slice(b"HatChatter.Ping");
        expected.push(0x80);
        let mut out = Vec::new();
        write_frame(&mut out, &msg(vec![]));
        assert_eq!(out, expected);
        assert_eq!(parse_frame(&out, 1 << 20).unwrap(), Some((msg(vec![]), out.len())));
    }

    #[test]
    fn long_bodies_take_more_length_bytes_and_partial_frames_wait() {
        let m = msg(vec![7; 300]);
        let mut out = Vec::new();
        write_frame(&mut out, &m);
        assert_eq!(out[0], 2);
        let len = u16::from_be_bytes([out[1], out[2]]) as usize;
        assert_eq!(out.len(), 3 + len);
        for cut in 0..out.len() {
            assert_eq!(parse_frame(&out[..cut], 1 << 20).unwrap(), None, "cut {cut}");
        }
        assert_eq!(parse_frame(&out, 1 << 20).unwrap(), Some((m, out.len())));
    }

    #[test]
    fn leading_zero_length_bytes_are_accepted() {
        let mut out = Vec::new();
        write_frame(&mut out, &msg(vec![]));
        let mut padded = vec![3, 0, 0];
        padded.extend_from_slice(&out[1..]);
        assert_eq!(parse_frame(&padded, 1 << 20).unwrap().unwrap().1, padded.len());
    }

    #[test]
    fn bad_headers_are_refused_before_the_body_arrives() {
        assert_eq!(parse_frame(&[0], 10), Err(FrameError::ZeroLengthOfLength));
        assert_eq!(parse_frame(&[1, 0], 10), Err(FrameError::Empty));
        assert_eq!(parse_frame(&[1, 11], 10), Err(FrameError::Oversized { len: Some(11), field_len: 1, limit: 10 }));
        assert_eq!(
            parse_frame(&[2, 1, 0], 255),
            Err(FrameError::Oversized { len: Some(256), field_len: 2, limit: 255 })
        );
        let huge = [255u8; 256];
        assert!(matches!(parse_frame(&huge, 1 << 30), Err(FrameError::Oversized { len: None, field_len: 255, .. })));
        assert!(matches!(parse_frame(&[1, 2, 0x81, 0x81], 10), Err(FrameError::Message(_))));
    }

    #[test]
    fn an_oversized_frame_reports_what_its_length_field_says() {
        let e = parse_frame(&[2, 4, 1], 1024).unwrap_err();
        assert_eq!(
            e.to_string(),
            "oversized frame: 1025 bytes announced by a length field of 2 bytes, the limit is 1024"
        );
        // a 245-byte field: the whole field is read, its value reported only if it fits
        let mut frame = vec![245u8];
        frame.extend(std::iter::repeat_n(0xb1, 245));
        let e = parse_frame(&frame, 1 << 26).unwrap_err().to_string();
        assert_eq!(
            e,
            "oversized frame: 2^128 bytes or more announced by a length field of 245 bytes, the limit is 67108864"
        );
        // leading zero bytes do not count towards the value's width
        let mut padded = vec![20u8];
        padded.extend([0u8; 12]);
        padded.extend([1u8, 0, 0, 0, 0, 0, 0, 0]);
        let e = parse_frame(&padded, 1 << 26).unwrap_err().to_string();
        assert!(
            e.starts_with("oversized frame: 72057594037927936 bytes announced by a length field of 20 bytes"),
            "{e}"
        );
    }
}
