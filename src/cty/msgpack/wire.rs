//! Low-level MessagePack: a bounds-checked reader over a byte slice and a writer that picks the most
//! compact form of each item, matching what go-cty's encoder (vmihailenco/msgpack) produces.

/// A failure of the byte-level format, before any cty meaning is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WireError {
    /// The input ended in the middle of an item.
    Truncated,
    /// The byte 0xc1, which MessagePack never uses.
    Reserved,
    /// A length that does not fit the format's 32-bit length fields.
    TooLong,
}

impl WireError {
    pub(crate) fn message(&self) -> &'static str {
        match self {
            WireError::Truncated => "unexpected end of msgpack data",
            WireError::Reserved => "invalid msgpack marker 0xc1",
            WireError::TooLong => "item too long for msgpack",
        }
    }
}

/// One MessagePack item header; strings, binaries and extensions come with their payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item<'a> {
    Nil,
    Bool(bool),
    /// Negative integers (and signed encodings of non-negative ones).
    Int(i64),
    /// Non-negative integers in unsigned or fixint encodings.
    Uint(u64),
    F32(f32),
    F64(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    /// An array of this many items, which follow.
    Array(u32),
    /// A map of this many key/value pairs, which follow.
    Map(u32),
    Ext {
        code: i8,
        data: &'a [u8],
    },
}

impl Item<'_> {
    /// What kind of item this is, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Item::Nil => "nil",
            Item::Bool(_) => "bool",
            Item::Int(_) | Item::Uint(_) => "integer",
            Item::F32(_) | Item::F64(_) => "float",
            Item::Str(_) => "string",
            Item::Bin(_) => "binary",
            Item::Array(_) => "array",
            Item::Map(_) => "map",
            Item::Ext { .. } => "extension",
        }
    }
}

/// Reads items from a byte slice; never reads past its end.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn bytes_of(&mut self, len: u32) -> Result<&'a [u8], WireError> {
        self.take(len as usize)
    }

    fn ext(&mut self, len: u32) -> Result<Item<'a>, WireError> {
        let code = self.u8()? as i8;
        let data = self.bytes_of(len)?;
        Ok(Item::Ext { code, data })
    }

    /// Reads the next item header (and payload, for strings, binaries and extensions).
    pub(crate) fn read(&mut self) -> Result<Item<'a>, WireError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Item::Uint(u64::from(marker)),
            0x80..=0x8f => Item::Map(u32::from(marker & 0x0f)),
            0x90..=0x9f => Item::Array(u32::from(marker & 0x0f)),
            0xa0..=0xbf => Item::Str(self.bytes_of(u32::from(marker & 0x1f))?),
            0xc0 => Item::Nil,
            0xc1 => return Err(WireError::Reserved),
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4 => {
                let n = self.u8()?;
                Item::Bin(self.bytes_of(u32::from(n))?)
            }
            0xc5 => {
                let n = self.u16()?;
                Item::Bin(self.bytes_of(u32::from(n))?)
            }
            0xc6 => {
                let n = self.u32()?;
                Item::Bin(self.bytes_of(n)?)
            }
            0xc7 => {
                let n = self.u8()?;
                self.ext(u32::from(n))?
            }
            0xc8 => {
                let n = self.u16()?;
                self.ext(u32::from(n))?
            }
            0xc9 => {
                let n = self.u32()?;
                self.ext(n)?
            }
            0xca => Item::F32(f32::from_be_bytes(self.array()?)),
            0xcb => Item::F64(f64::from_be_bytes(self.array()?)),
            0xcc => Item::Uint(u64::from(self.u8()?)),
            0xcd => Item::Uint(u64::from(self.u16()?)),
            0xce => Item::Uint(u64::from(self.u32()?)),
            0xcf => Item::Uint(self.u64()?),
            0xd0 => Item::Int(i64::from(self.u8()? as i8)),
            0xd1 => Item::Int(i64::from(self.u16()? as i16)),
            0xd2 => Item::Int(i64::from(self.u32()? as i32)),
            0xd3 => Item::Int(self.u64()? as i64),
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xd9 => {
                let n = self.u8()?;
                Item::Str(self.bytes_of(u32::from(n))?)
            }
            0xda => {
                let n = self.u16()?;
                Item::Str(self.bytes_of(u32::from(n))?)
            }
            0xdb => {
                let n = self.u32()?;
                Item::Str(self.bytes_of(n)?)
            }
            0xdc => Item::Array(u32::from(self.u16()?)),
            0xdd => Item::Array(self.u32()?),
            0xde => Item::Map(u32::from(self.u16()?)),
            0xdf => Item::Map(self.u32()?),
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
        })
    }

    /// Skips one complete item, including everything nested in it, without recursion.
    pub(crate) fn skip(&mut self) -> Result<(), WireError> {
        let mut pending: u64 = 1;
        while pending > 0 {
            pending -= 1;
            match self.read()? {
                Item::Array(n) => pending += u64::from(n),
                Item::Map(n) => pending += 2 * u64::from(n),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Appends items to a byte buffer in their most compact encodings.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn nil(&mut self) {
        self.out.push(0xc0);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.out.push(if b { 0xc3 } else { 0xc2 });
    }

    pub(crate) fn uint(&mut self, n: u64) {
        if n <= 0x7f {
            self.out.push(n as u8);
        } else if let Ok(n) = u8::try_from(n) {
            self.out.push(0xcc);
            self.out.push(n);
        } else if let Ok(n) = u16::try_from(n) {
            self.out.push(0xcd);
            self.out.extend_from_slice(&n.to_be_bytes());
        } else if let Ok(n) = u32::try_from(n) {
            self.out.push(0xce);
            self.out.extend_from_slice(&n.to_be_bytes());
        } else {
            self.out.push(0xcf);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }

    pub(crate) fn int(&mut self, n: i64) {
        if let Ok(u) = u64::try_from(n) {
            self.uint(u);
        } else if n >= -32 {
            self.out.push(n as u8);
        } else if let Ok(n) = i8::try_from(n) {
            self.out.push(0xd0);
            self.out.push(n as u8);
        } else if let Ok(n) = i16::try_from(n) {
            self.out.push(0xd1);
            self.out.extend_from_slice(&n.to_be_bytes());
        } else if let Ok(n) = i32::try_from(n) {
            self.out.push(0xd2);
            self.out.extend_from_slice(&n.to_be_bytes());
        } else {
            self.out.push(0xd3);
            self.out.extend_from_slice(&n.to_be_bytes());
        }
    }

    pub(crate) fn f64(&mut self, f: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&f.to_be_bytes());
    }

    /// A length-prefixed header: the fix form when `fix` allows it, else the 8/16/32-bit form
    /// (`codes[0]` is `None` for kinds without an 8-bit length form).
    fn len_header(
        &mut self,
        len: usize,
        fix: Option<(u8, usize)>,
        codes: (Option<u8>, u8, u8),
    ) -> Result<(), WireError> {
        let n = u32::try_from(len).map_err(|_| WireError::TooLong)?;
        if let Some((base, limit)) = fix {
            if len < limit {
                self.out.push(base | len as u8);
                return Ok(());
            }
        }
        match (codes.0, u8::try_from(n), u16::try_from(n)) {
            (Some(code), Ok(short), _) => {
                self.out.push(code);
                self.out.push(short);
            }
            (_, _, Ok(medium)) => {
                self.out.push(codes.1);
                self.out.extend_from_slice(&medium.to_be_bytes());
            }
            _ => {
                self.out.push(codes.2);
                self.out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Ok(())
    }

    pub(crate) fn str(&mut self, s: &str) -> Result<(), WireError> {
        self.len_header(s.len(), Some((0xa0, 32)), (Some(0xd9), 0xda, 0xdb))?;
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    pub(crate) fn bin(&mut self, b: &[u8]) -> Result<(), WireError> {
        self.len_header(b.len(), None, (Some(0xc4), 0xc5, 0xc6))?;
        self.out.extend_from_slice(b);
        Ok(())
    }

    pub(crate) fn array_len(&mut self, len: usize) -> Result<(), WireError> {
        self.len_header(len, Some((0x90, 16)), (None, 0xdc, 0xdd))
    }

    pub(crate) fn map_len(&mut self, len: usize) -> Result<(), WireError> {
        self.len_header(len, Some((0x80, 16)), (None, 0xde, 0xdf))
    }

    /// An extension item: fixext for payloads of 1, 2, 4, 8 or 16 bytes, ext8/16/32 otherwise.
    pub(crate) fn ext(&mut self, code: i8, data: &[u8]) -> Result<(), WireError> {
        let fixed = match data.len() {
            1 => Some(0xd4),
            2 => Some(0xd5),
            4 => Some(0xd6),
            8 => Some(0xd7),
            16 => Some(0xd8),
            _ => None,
        };
        match fixed {
            Some(marker) => self.out.push(marker),
            None => self.len_header(data.len(), None, (Some(0xc7), 0xc8, 0xc9))?,
        }
        self.out.push(code as u8);
        self.out.extend_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::default();
        f(&mut w);
        w.out
    }

    #[test]
    fn integers_use_compact_forms() {
        assert_eq!(written(|w| w.int(0)), [0x00]);
        assert_eq!(written(|w| w.int(127)), [0x7f]);
        assert_eq!(written(|w| w.int(128)), [0xcc, 0x80]);
        assert_eq!(written(|w| w.int(256)), [0xcd, 0x01, 0x00]);
        assert_eq!(written(|w| w.int(-1)), [0xff]);
        assert_eq!(written(|w| w.int(-32)), [0xe0]);
        assert_eq!(written(|w| w.int(-33)), [0xd0, 0xdf]);
        assert_eq!(written(|w| w.int(-129)), [0xd1, 0xff, 0x7f]);
        assert_eq!(written(|w| w.int(i64::MIN))[0], 0xd3);
        assert_eq!(written(|w| w.uint(u64::MAX))[0], 0xcf);
    }

    #[test]
    fn lengths_use_compact_forms() {
        assert_eq!(written(|w| w.str("a").unwrap()), [0xa1, b'a']);
        let s = "x".repeat(32);
        assert_eq!(written(|w| w.str(&s).unwrap())[..2], [0xd9, 32]);
        let s = "x".repeat(256);
        assert_eq!(written(|w| w.str(&s).unwrap())[..3], [0xda, 1, 0]);
        assert_eq!(written(|w| w.bin(b"ab").unwrap()), [0xc4, 2, b'a', b'b']);
        assert_eq!(written(|w| w.array_len(15).unwrap()), [0x9f]);
        assert_eq!(written(|w| w.array_len(16).unwrap()), [0xdc, 0, 16]);
        assert_eq!(written(|w| w.map_len(3).unwrap()), [0x83]);
        assert_eq!(
            written(|w| w.map_len(70000).unwrap()),
            [0xdf, 0, 1, 0x11, 0x70]
        );
        assert_eq!(written(|w| w.ext(0, &[0]).unwrap()), [0xd4, 0, 0]);
        assert_eq!(
            written(|w| w.ext(12, &[1, 2, 3]).unwrap()),
            [0xc7, 3, 12, 1, 2, 3]
        );
    }

    #[test]
    fn reader_round_trips_writer() {
        let bytes = written(|w| {
            w.int(-5);
            w.uint(300);
            w.f64(1.5);
            w.str("hi").unwrap();
            w.array_len(2).unwrap();
            w.nil();
            w.bool(true);
        });
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read(), Ok(Item::Int(-5)));
        assert_eq!(r.read(), Ok(Item::Uint(300)));
        assert_eq!(r.read(), Ok(Item::F64(1.5)));
        assert_eq!(r.read(), Ok(Item::Str(b"hi")));
        assert_eq!(r.read(), Ok(Item::Array(2)));
        assert_eq!(r.read(), Ok(Item::Nil));
        assert_eq!(r.read(), Ok(Item::Bool(true)));
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.read(), Err(WireError::Truncated));
    }

    #[test]
    fn skip_is_iterative_and_bounded() {
        // A huge claimed array length must fail on truncation, not loop forever or allocate.
        let mut r = Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(r.skip(), Err(WireError::Truncated));
        let mut r = Reader::new(&[0x92, 0x81, 0xa1, b'k', 0x01, 0xc0, 0x05]);
        assert_eq!(r.skip(), Ok(()));
        assert_eq!(r.read(), Ok(Item::Uint(5)));
        assert_eq!(Reader::new(&[0xc1]).read(), Err(WireError::Reserved));
        assert_eq!(
            Reader::new(&[0xdb, 0, 0, 0, 9, b'a']).read(),
            Err(WireError::Truncated)
        );
    }
}
