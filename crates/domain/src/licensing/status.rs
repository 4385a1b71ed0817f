//! A person's status per product. LinkedIn's products are separate application
//! instances, each with its own IdP app: what one product's IdP writes to `active` is that
//! product's status, and another product's IdP never reads or overwrites it. The person
//! is active for the account while any product holds them active. (docs/licensing.md,
//! "Per-product status".)

use std::collections::BTreeMap;

use serde_json::Value;

use super::Product;

/// `active` per product that has written the person (product slug → active; `None`:
/// that product's IdP removed `active`, which counts as active, as a missing `active`
/// does everywhere).
pub type ProductStatuses = BTreeMap<String, Option<bool>>;

/// The document's `active` (a missing one is active, as a create keeps it).
pub fn doc_active(doc: &Value) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// The document's `active` as written: `None` when it has none.
pub fn written_active(doc: &Value) -> Option<bool> {
    doc.get("active").and_then(Value::as_bool)
}

/// Set or remove the document's `active`.
fn set_active(doc: &mut Value, active: Option<bool>) {
    if let Some(map) = doc.as_object_mut() {
        match active {
            Some(active) => {
                map.insert("active".to_owned(), Value::Bool(active));
            }
            None => {
                map.remove("active");
            }
        }
    }
}

/// The document as a configuration of `product` sees it: its `active` is that
/// product's status once the product has written the person, else the person's (the
/// document's own).
pub fn view(doc: &mut Value, statuses: &ProductStatuses, product: Option<&Product>) {
    if let Some(status) = product.and_then(|p| statuses.get(p.as_str())) {
        set_active(doc, *status);
    }
}

/// A write through a configuration of `product` left `active` (the product's status, as
/// the client sent it): record it, and make the document the person's: active while any
/// product holds them active (inactive when every product says so; without `active`
/// when none says either). A configuration that assigns no product writes the person's
/// `active` itself and no product's status.
pub fn record(statuses: &mut ProductStatuses, product: Option<&Product>, doc: &mut Value) {
    let Some(p) = product else { return };
    statuses.insert(p.as_str().to_owned(), written_active(doc));
    let person = if statuses.values().any(|a| *a == Some(true)) {
        Some(true)
    } else if statuses.values().all(|a| *a == Some(false)) {
        Some(false)
    } else {
        None
    };
    set_active(doc, person);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_product_sees_its_own_status_and_the_person_is_active_while_any_is() {
        let (sn, learning) = (Product::sales_navigator(), Product::learning());
        let mut statuses = ProductStatuses::new();
        let mut doc = json!({"userName": "a", "active": true});
        record(&mut statuses, Some(&sn), &mut doc);
        let mut off = json!({"userName": "a", "active": false});
        record(&mut statuses, Some(&learning), &mut off);
        assert_eq!(off["active"], true, "Sales Navigator still holds them");
        let mut seen = off.clone();
        view(&mut seen, &statuses, Some(&learning));
        assert_eq!(seen["active"], false);
        let mut sn_off = json!({"userName": "a", "active": false});
        record(&mut statuses, Some(&sn), &mut sn_off);
        assert_eq!(sn_off["active"], false, "no product holds them active");
        // A product that never wrote the person sees the document's status.
        let elevate = Product::try_from(Product::ELEVATE.to_owned()).expect("a slug");
        let mut other = sn_off.clone();
        view(&mut other, &statuses, Some(&elevate));
        assert_eq!(other["active"], false);
        // A configuration without a product writes the person only.
        let mut person = json!({"active": true});
        record(&mut statuses, None, &mut person);
        assert_eq!((person["active"].clone(), statuses.len()), (json!(true), 2));
    }

    #[test]
    fn a_removed_active_is_removed_in_the_product_s_view() {
        let sn = Product::sales_navigator();
        let mut statuses = ProductStatuses::new();
        let mut removed = json!({"userName": "a"});
        record(&mut statuses, Some(&sn), &mut removed);
        assert!(removed.get("active").is_none(), "{removed}");
        let mut seen = json!({"userName": "a", "active": true});
        view(&mut seen, &statuses, Some(&sn));
        assert!(seen.get("active").is_none(), "{seen}");
        assert!(doc_active(&seen), "a missing active counts as active");
    }
}
