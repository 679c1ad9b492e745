//! DOM accessors a mail cannot shadow, for walking a parsed mail.
//!
//! A web-sys call such as `node.child_nodes()` reads the property from the object itself, and a
//! parsed mail controls some of those: a `<form>` exposes its inputs by name (`<input
//! name=childNodes>` makes `form.childNodes` that input) and a document its images and forms by
//! name (`<img name=body>` makes `doc.body` that image). So the sanitizer reads every property
//! through the getter and calls every method found on the prototypes (`Node.prototype`,
//! `Element.prototype`, `Document.prototype`), which no element in the mail can replace.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Node, NodeList};

/// The browser lacks a DOM accessor the sanitizer relies on (never seen in a current engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingAccessor(pub &'static str);

/// The prototype getters and methods, looked up once.
pub struct SafeDom {
    child_nodes: Function,
    node_type: Function,
    parent_node: Function,
    text_content: Function,
    owner_document: Function,
    remove_child: Function,
    insert_before: Function,
    append_child: Function,
    local_name: Function,
    namespace_uri: Function,
    class_name: Function,
    inner_html: Function,
    get_attribute_names: Function,
    get_attribute: Function,
    set_attribute: Function,
    remove_attribute: Function,
    has_attribute: Function,
    document_body: Function,
    document_query_all: Function,
    create_element: Function,
}

fn prototype(interface: &'static str) -> Result<Object, MissingAccessor> {
    let constructor = Reflect::get(&js_sys::global(), &interface.into()).map_err(|_| MissingAccessor(interface))?;
    Reflect::get(&constructor, &"prototype".into())
        .ok()
        .and_then(|p| p.dyn_into::<Object>().ok())
        .ok_or(MissingAccessor(interface))
}

/// The getter of `name`, searched up the prototype chain from `proto` (engines differ in which
/// prototype holds some of them, `innerHTML` among them).
fn getter(proto: &Object, name: &'static str) -> Result<Function, MissingAccessor> {
    let mut at = proto.clone();
    loop {
        let descriptor = Object::get_own_property_descriptor(&at, &name.into());
        if let Some(get) = Reflect::get(&descriptor, &"get".into()).ok().and_then(|g| g.dyn_into::<Function>().ok()) {
            return Ok(get);
        }
        let parent = Object::get_prototype_of(&at);
        if parent.is_null() || parent.is_undefined() {
            return Err(MissingAccessor(name));
        }
        at = parent;
    }
}

fn method(proto: &Object, name: &'static str) -> Result<Function, MissingAccessor> {
    Reflect::get(proto, &name.into()).ok().and_then(|m| m.dyn_into::<Function>().ok()).ok_or(MissingAccessor(name))
}

impl SafeDom {
    pub fn new() -> Result<SafeDom, MissingAccessor> {
        let node = prototype("Node")?;
        let element = prototype("Element")?;
        let document = prototype("Document")?;
        Ok(SafeDom {
            child_nodes: getter(&node, "childNodes")?,
            node_type: getter(&node, "nodeType")?,
            parent_node: getter(&node, "parentNode")?,
            text_content: getter(&node, "textContent")?,
            owner_document: getter(&node, "ownerDocument")?,
            remove_child: method(&node, "removeChild")?,
            insert_before: method(&node, "insertBefore")?,
            append_child: method(&node, "appendChild")?,
            local_name: getter(&element, "localName")?,
            namespace_uri: getter(&element, "namespaceURI")?,
            class_name: getter(&element, "className")?,
            inner_html: getter(&element, "innerHTML")?,
            get_attribute_names: method(&element, "getAttributeNames")?,
            get_attribute: method(&element, "getAttribute")?,
            set_attribute: method(&element, "setAttribute")?,
            remove_attribute: method(&element, "removeAttribute")?,
            has_attribute: method(&element, "hasAttribute")?,
            document_body: getter(&document, "body")?,
            document_query_all: method(&document, "querySelectorAll")?,
            create_element: method(&document, "createElement")?,
        })
    }

    /// A snapshot of `node`'s children (the walk moves and removes them as it goes).
    pub fn children(&self, node: &Node) -> Vec<Node> {
        let Some(list) = self.child_nodes.call0(node).ok().and_then(|l| l.dyn_into::<NodeList>().ok()) else {
            return Vec::new();
        };
        (0..list.length()).filter_map(|i| list.item(i)).collect()
    }

    pub fn node_type(&self, node: &Node) -> u16 {
        self.node_type.call0(node).ok().and_then(|t| t.as_f64()).map(|t| t as u16).unwrap_or(0)
    }

    pub fn parent(&self, node: &Node) -> Option<Node> {
        self.parent_node.call0(node).ok().and_then(|p| p.dyn_into::<Node>().ok())
    }

    pub fn text(&self, node: &Node) -> String {
        self.text_content.call0(node).ok().and_then(|t| t.as_string()).unwrap_or_default()
    }

    pub fn owner_document(&self, node: &Node) -> Option<Document> {
        self.owner_document.call0(node).ok().and_then(|d| d.dyn_into::<Document>().ok())
    }

    pub fn remove(&self, parent: &Node, child: &Node) {
        let _ = self.remove_child.call1(parent, child);
    }

    /// Detaches `node` from wherever it is.
    pub fn detach(&self, node: &Node) {
        if let Some(parent) = self.parent(node) {
            self.remove(&parent, node);
        }
    }

    pub fn insert_before(&self, parent: &Node, child: &Node, before: &Node) {
        let _ = self.insert_before.call2(parent, child, before);
    }

    pub fn append(&self, parent: &Node, child: &Node) {
        let _ = self.append_child.call1(parent, child);
    }

    /// The lower-case local name (`""` for what is not an element).
    pub fn local_name(&self, element: &Element) -> String {
        self.local_name.call0(element).ok().and_then(|n| n.as_string()).unwrap_or_default().to_ascii_lowercase()
    }

    pub fn namespace(&self, element: &Element) -> Option<String> {
        self.namespace_uri.call0(element).ok().and_then(|n| n.as_string())
    }

    pub fn class_name(&self, element: &Element) -> String {
        self.class_name.call0(element).ok().and_then(|n| n.as_string()).unwrap_or_default()
    }

    pub fn inner_html(&self, element: &Element) -> String {
        self.inner_html.call0(element).ok().and_then(|h| h.as_string()).unwrap_or_default()
    }

    pub fn attribute_names(&self, element: &Element) -> Vec<String> {
        self.get_attribute_names
            .call0(element)
            .ok()
            .and_then(|names| names.dyn_into::<Array>().ok())
            .map(|names| names.iter().filter_map(|n| n.as_string()).collect())
            .unwrap_or_default()
    }

    pub fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        self.get_attribute.call1(element, &name.into()).ok().and_then(|v| v.as_string())
    }

    pub fn set_attribute(&self, element: &Element, name: &str, value: &str) {
        let _ = self.set_attribute.call2(element, &name.into(), &value.into());
    }

    pub fn remove_attribute(&self, element: &Element, name: &str) {
        let _ = self.remove_attribute.call1(element, &name.into());
    }

    pub fn has_attribute(&self, element: &Element, name: &str) -> bool {
        self.has_attribute.call1(element, &name.into()).ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    /// The document's real `<body>`, never an element the mail named `body`.
    pub fn body(&self, document: &Document) -> Option<Element> {
        self.document_body.call0(document).ok().and_then(|b| b.dyn_into::<Element>().ok())
    }

    pub fn query_all(&self, document: &Document, selector: &str) -> Vec<Node> {
        let Some(list) =
            self.document_query_all.call1(document, &selector.into()).ok().and_then(|l| l.dyn_into::<NodeList>().ok())
        else {
            return Vec::new();
        };
        (0..list.length()).filter_map(|i| list.item(i)).collect()
    }

    pub fn create_element(&self, document: &Document, tag: &str) -> Option<Element> {
        self.create_element.call1(document, &tag.into()).ok().and_then(|e| e.dyn_into::<Element>().ok())
    }
}

/// Whether `value` as an `id` or `name` would shadow a property of a document or a form (the
/// family DOMPurify's SANITIZE_DOM removes): checked against a fresh, empty document and form,
/// whose only properties are the built-in ones.
pub fn shadows_dom_property(value: &str) -> bool {
    thread_local! {
        static PRISTINE: Option<(JsValue, JsValue)> = pristine();
    }
    PRISTINE.with(|pristine| match pristine {
        Some((document, form)) => {
            let key = JsValue::from_str(value);
            Reflect::has(document, &key).unwrap_or(true) || Reflect::has(form, &key).unwrap_or(true)
        }
        // Without a pristine document to ask, every value is taken to shadow something.
        None => true,
    })
}

fn pristine() -> Option<(JsValue, JsValue)> {
    let parser = web_sys::DomParser::new().ok()?;
    let document = parser.parse_from_string("", web_sys::SupportedType::TextHtml).ok()?;
    let form = document.create_element("form").ok()?;
    Some((document.into(), form.into()))
}
