//! The few ONNX protobuf messages aidlc writes (the export) and reads (metadata and class labels
//! of a model being loaded), encoded and decoded by hand: varints, fixed-width numbers and
//! length-delimited fields, with the field numbers of `onnx.proto`. Writing a few messages by
//! hand keeps prost and protoc out of the build.

/// ONNX `TensorProto.DataType` values used here.
pub mod data_type {
    pub const FLOAT: i32 = 1;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const STRING: i32 = 8;
    pub const BOOL: i32 = 9;
    pub const DOUBLE: i32 = 11;
}

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// Appends protobuf fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    /// An `int32`/`int64` field; negative numbers take ten bytes, as protobuf specifies.
    pub fn int(&mut self, field: u32, v: i64) {
        self.key(field, VARINT);
        self.varint(v as u64);
    }

    pub fn float(&mut self, field: u32, v: f32) {
        self.key(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, field: u32, v: &[u8]) {
        self.key(field, LEN);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    pub fn string(&mut self, field: u32, v: &str) {
        self.bytes(field, v.as_bytes());
    }

    /// A nested message, written by `body` into its own buffer so its length can lead it.
    pub fn message(&mut self, field: u32, body: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::new();
        body(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

/// `ModelProto`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelProto {
    pub ir_version: i64,
    /// `(domain, version)`; the default domain is `""`.
    pub opset_import: Vec<(String, i64)>,
    pub producer_name: String,
    pub producer_version: String,
    pub graph: GraphProto,
    pub metadata_props: Vec<(String, String)>,
}

/// `GraphProto`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GraphProto {
    pub name: String,
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    pub inputs: Vec<ValueInfoProto>,
    pub outputs: Vec<ValueInfoProto>,
}

/// `NodeProto`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeProto {
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub name: String,
    pub op_type: String,
    pub domain: String,
    pub attributes: Vec<AttributeProto>,
}

/// `AttributeProto`: a name and one typed value.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeProto {
    pub name: String,
    pub value: AttributeValue,
}

/// The value of an attribute, with the `AttributeType` it is written as.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Float(f32),
    Int(i64),
    String(Vec<u8>),
    Tensor(TensorProto),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    Strings(Vec<Vec<u8>>),
}

/// `TensorProto` with its values as `raw_data` (little-endian), or `string_data` for text.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorProto {
    pub name: String,
    pub dims: Vec<i64>,
    pub data: TensorData,
}

/// The element type and values of a tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    Float(Vec<f32>),
    Int64(Vec<i64>),
    String(Vec<Vec<u8>>),
}

/// `ValueInfoProto` of a tensor: name, element type and shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfoProto {
    pub name: String,
    /// A [`data_type`]; `0` (UNDEFINED) writes no type at all, leaving it to shape inference.
    pub elem_type: i32,
    pub dims: Vec<Dim>,
}

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Dim {
    Value(i64),
    /// A named free dimension such as the batch size `N`.
    Param(String),
}

impl ModelProto {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.int(1, self.ir_version);
        w.string(2, &self.producer_name);
        w.string(3, &self.producer_version);
        w.message(7, |w| self.graph.encode(w));
        for (domain, version) in &self.opset_import {
            w.message(8, |w| {
                w.string(1, domain);
                w.int(2, *version);
            });
        }
        for (key, value) in &self.metadata_props {
            w.message(14, |w| {
                w.string(1, key);
                w.string(2, value);
            });
        }
        w.into_bytes()
    }
}

impl GraphProto {
    fn encode(&self, w: &mut Writer) {
        for node in &self.nodes {
            w.message(1, |w| node.encode(w));
        }
        w.string(2, &self.name);
        for tensor in &self.initializers {
            w.message(5, |w| tensor.encode(w));
        }
        for input in &self.inputs {
            w.message(11, |w| input.encode(w));
        }
        for output in &self.outputs {
            w.message(12, |w| output.encode(w));
        }
    }
}

impl NodeProto {
    fn encode(&self, w: &mut Writer) {
        for input in &self.inputs {
            w.string(1, input);
        }
        for output in &self.outputs {
            w.string(2, output);
        }
        w.string(3, &self.name);
        w.string(4, &self.op_type);
        for attribute in &self.attributes {
            w.message(5, |w| attribute.encode(w));
        }
        if !self.domain.is_empty() {
            w.string(7, &self.domain);
        }
    }
}

impl AttributeProto {
    /// Repeated numbers are written unpacked, one field each: `onnx.proto` is proto2 and does
    /// not declare these fields packed.
    fn encode(&self, w: &mut Writer) {
        w.string(1, &self.name);
        let kind = match &self.value {
            AttributeValue::Float(v) => {
                w.float(2, *v);
                1
            }
            AttributeValue::Int(v) => {
                w.int(3, *v);
                2
            }
            AttributeValue::String(v) => {
                w.bytes(4, v);
                3
            }
            AttributeValue::Tensor(t) => {
                w.message(5, |w| t.encode(w));
                4
            }
            AttributeValue::Floats(vs) => {
                for v in vs {
                    w.float(7, *v);
                }
                6
            }
            AttributeValue::Ints(vs) => {
                for v in vs {
                    w.int(8, *v);
                }
                7
            }
            AttributeValue::Strings(vs) => {
                for v in vs {
                    w.bytes(9, v);
                }
                8
            }
        };
        w.int(20, kind);
    }
}

impl TensorProto {
    fn encode(&self, w: &mut Writer) {
        for d in &self.dims {
            w.int(1, *d);
        }
        match &self.data {
            TensorData::Float(vs) => {
                w.int(2, i64::from(data_type::FLOAT));
                let raw: Vec<u8> = vs.iter().flat_map(|v| v.to_le_bytes()).collect();
                w.bytes(9, &raw);
            }
            TensorData::Int64(vs) => {
                w.int(2, i64::from(data_type::INT64));
                let raw: Vec<u8> = vs.iter().flat_map(|v| v.to_le_bytes()).collect();
                w.bytes(9, &raw);
            }
            TensorData::String(vs) => {
                w.int(2, i64::from(data_type::STRING));
                for v in vs {
                    w.bytes(6, v);
                }
            }
        }
        w.string(8, &self.name);
    }
}

impl ValueInfoProto {
    fn encode(&self, w: &mut Writer) {
        w.string(1, &self.name);
        if self.elem_type == 0 {
            return;
        }
        // TypeProto { tensor_type (1): Tensor { elem_type (1), shape (2): { dim (1)* } } }
        w.message(2, |w| {
            w.message(1, |w| {
                w.int(1, i64::from(self.elem_type));
                w.message(2, |w| {
                    for d in &self.dims {
                        w.message(1, |w| match d {
                            Dim::Value(v) => w.int(1, *v),
                            Dim::Param(p) => w.string(2, p),
                        });
                    }
                });
            });
        });
    }
}

/// Why bytes are not a protobuf message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid protobuf message at byte {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// A field's value as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

/// Iterates over the fields of one message: `(field number, value)`.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields {
            buf,
            at: 0,
            failed: false,
        }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.at) else {
                return Err(self.error("truncated varint"));
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.error("varint longer than ten bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.error("field runs past the end"))?;
        let out = &self.buf[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn error(&self, reason: &'static str) -> DecodeError {
        DecodeError {
            offset: self.at,
            reason,
        }
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), DecodeError> {
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| self.error("field number too large"))?;
        if field == 0 {
            return Err(self.error("field number 0"));
        }
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().expect("eight bytes"),
            )),
            LEN => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| self.error("length too large"))?;
                Value::Bytes(self.take(n)?)
            }
            FIXED32 => Value::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().expect("four bytes"),
            )),
            _ => return Err(self.error("unknown wire type")),
        };
        Ok((field, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.buf.len() {
            return None;
        }
        let item = self.field();
        self.failed = item.is_err();
        Some(item)
    }
}

/// The class labels a classifier node declares, in the order of its probability columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassLabels {
    Ints(Vec<i64>),
    Strings(Vec<String>),
}

/// What aidlc reads from an ONNX model's bytes before handing them to ONNX Runtime.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelSummary {
    pub ir_version: i64,
    pub metadata_props: Vec<(String, String)>,
    /// Every node's operator as `domain:op_type` (`:op_type` for the default domain), in
    /// graph order.
    pub operators: Vec<String>,
    /// The class labels of the last `ai.onnx.ml` node with `classlabels_*` attributes
    /// (a classifier or a ZipMap), if any.
    pub class_labels: Option<ClassLabels>,
}

impl ModelSummary {
    /// The value of a metadata property.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata_props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a `ModelProto`'s IR version, metadata properties and classifier labels. Fails when the
/// bytes are not a protobuf message or carry no graph, which is how aidlc tells an ONNX file
/// from anything else.
pub fn summarize(bytes: &[u8]) -> Result<ModelSummary, DecodeError> {
    let mut summary = ModelSummary::default();
    let mut graph = None;
    for field in Fields::new(bytes) {
        match field? {
            (1, Value::Varint(v)) => summary.ir_version = v as i64,
            (7, Value::Bytes(g)) => graph = Some(g),
            (14, Value::Bytes(entry)) => {
                let (mut key, mut value) = (String::new(), String::new());
                for f in Fields::new(entry) {
                    match f? {
                        (1, Value::Bytes(b)) => key = String::from_utf8_lossy(b).into_owned(),
                        (2, Value::Bytes(b)) => value = String::from_utf8_lossy(b).into_owned(),
                        _ => {}
                    }
                }
                summary.metadata_props.push((key, value));
            }
            _ => {}
        }
    }
    let graph = graph.ok_or(DecodeError {
        offset: bytes.len(),
        reason: "no graph (field 7 of ModelProto)",
    })?;
    for field in Fields::new(graph) {
        if let (1, Value::Bytes(node)) = field? {
            let (operator, labels) = read_node(node)?;
            summary.operators.push(operator);
            if labels.is_some() {
                summary.class_labels = labels;
            }
        }
    }
    Ok(summary)
}

/// A node's `domain:op_type` and the `classlabels_*` attribute of an `ai.onnx.ml` node, if it
/// has one.
fn read_node(node: &[u8]) -> Result<(String, Option<ClassLabels>), DecodeError> {
    let mut domain = "";
    let mut op_type = "";
    let mut found = None;
    for field in Fields::new(node) {
        match field? {
            (4, Value::Bytes(d)) => op_type = std::str::from_utf8(d).unwrap_or(""),
            (7, Value::Bytes(d)) => domain = std::str::from_utf8(d).unwrap_or(""),
            (5, Value::Bytes(attribute)) => {
                let mut name: &[u8] = b"";
                let mut ints = Vec::new();
                let mut strings = Vec::new();
                for f in Fields::new(attribute) {
                    match f? {
                        (1, Value::Bytes(n)) => name = n,
                        (8, Value::Varint(v)) => ints.push(v as i64),
                        // A packed list of ints, which proto2 readers also accept.
                        (8, Value::Bytes(packed)) => {
                            let mut inner = Fields::new(packed);
                            while inner.at < packed.len() {
                                ints.push(inner.varint()? as i64);
                            }
                        }
                        (9, Value::Bytes(s)) => {
                            strings.push(String::from_utf8_lossy(s).into_owned())
                        }
                        _ => {}
                    }
                }
                if name.starts_with(b"classlabels_") {
                    if !strings.is_empty() {
                        found = Some(ClassLabels::Strings(strings));
                    } else if !ints.is_empty() {
                        found = Some(ClassLabels::Ints(ints));
                    }
                }
            }
            _ => {}
        }
    }
    Ok((
        format!("{domain}:{op_type}"),
        found.filter(|_| domain == "ai.onnx.ml"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_the_protobuf_encoding() {
        let mut w = Writer::new();
        w.int(1, 150);
        assert_eq!(w.into_bytes(), [0x08, 0x96, 0x01]);
        let mut w = Writer::new();
        w.int(2, -1);
        let bytes = w.into_bytes();
        assert_eq!(
            bytes.len(),
            11,
            "a negative int64 takes ten bytes after its key"
        );
        let (field, value) = Fields::new(&bytes).next().unwrap().unwrap();
        assert_eq!((field, value), (2, Value::Varint(u64::MAX)));
    }

    #[test]
    fn nested_messages_are_length_prefixed() {
        let mut w = Writer::new();
        w.message(3, |w| w.string(1, "ab"));
        assert_eq!(w.into_bytes(), [0x1a, 0x04, 0x0a, 0x02, b'a', b'b']);
    }

    fn classifier_node(attribute: AttributeProto) -> NodeProto {
        NodeProto {
            inputs: vec!["x".into()],
            outputs: vec!["label".into(), "probabilities".into()],
            name: "n".into(),
            op_type: "LinearClassifier".into(),
            domain: "ai.onnx.ml".into(),
            attributes: vec![attribute],
        }
    }

    fn model_with(nodes: Vec<NodeProto>) -> ModelProto {
        ModelProto {
            ir_version: 8,
            opset_import: vec![(String::new(), 17)],
            producer_name: "test".into(),
            producer_version: "1".into(),
            graph: GraphProto {
                name: "g".into(),
                nodes,
                ..GraphProto::default()
            },
            metadata_props: vec![("k".into(), "v é".into())],
        }
    }

    #[test]
    fn a_written_model_reads_back() {
        let labels = AttributeProto {
            name: "classlabels_strings".into(),
            value: AttributeValue::Strings(vec![b"no".to_vec(), b"yes".to_vec()]),
        };
        let bytes = model_with(vec![classifier_node(labels)]).encode();
        let summary = summarize(&bytes).unwrap();
        assert_eq!(summary.ir_version, 8);
        assert_eq!(summary.metadata("k"), Some("v é"));
        assert_eq!(summary.operators, ["ai.onnx.ml:LinearClassifier"]);
        assert_eq!(
            summary.class_labels,
            Some(ClassLabels::Strings(vec!["no".into(), "yes".into()]))
        );
    }

    #[test]
    fn packed_integer_labels_are_read_too() {
        // Another writer may pack repeated ints into one length-delimited field.
        let mut packed = Writer::new();
        for v in [-1i64, 1] {
            packed.varint(v as u64);
        }
        let mut attribute = Writer::new();
        attribute.string(1, "classlabels_ints");
        attribute.bytes(8, &packed.into_bytes());
        let mut node = Writer::new();
        node.string(4, "LinearClassifier");
        node.bytes(5, &attribute.into_bytes());
        node.string(7, "ai.onnx.ml");
        let (operator, labels) = read_node(&node.into_bytes()).unwrap();
        assert_eq!(operator, "ai.onnx.ml:LinearClassifier");
        assert_eq!(labels, Some(ClassLabels::Ints(vec![-1, 1])));
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let mut w = Writer::new();
        w.string(1, "hello");
        let bytes = w.into_bytes();
        let err = Fields::new(&bytes[..4]).last().unwrap().unwrap_err();
        assert_eq!(err.reason, "field runs past the end");
        assert!(summarize(b"{\"format\": 1}").is_err());
    }
}
