//! The engine's registry of function types: engine-wide signature ids with iso-recursive
//! type identity.
//!
//! Two types get the same id exactly when they are identical in the sense of the
//! WebAssembly type system: their whole recursion groups are structurally equal, with
//! references inside a group compared by position in the group and references outside it
//! by id. So `call_indirect` and `call_ref` can compare signatures across modules with one
//! integer comparison, and a type's declared supertype chain (by id) answers subtyping.
//!
//! A group is registered by its *canonical form*: each type with its references to the
//! group's own types written as [`HeapType::Module`] positions within the group, and its
//! references to other types as [`HeapType::Engine`] ids. The registered types are stored
//! with every reference an engine id.

use fact_environ::{FuncType, HeapType, ModuleInfo, SubType, ValType};
use std::collections::HashMap;
use std::sync::RwLock;

/// One type of a group in canonical form.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CanonicalType {
    is_final: bool,
    /// A group position ([`HeapType::Module`]) or an id ([`HeapType::Engine`]).
    supertype: Option<HeapType>,
    ty: FuncType,
}

/// A registered type.
struct Registered {
    /// The type, with every concrete reference an engine id.
    ty: FuncType,
    /// The id of its declared supertype.
    supertype: Option<u32>,
}

#[derive(Default)]
struct Inner {
    /// The first id of each registered group, by canonical form.
    groups: HashMap<Vec<CanonicalType>, u32>,
    /// The ids of *plain* types, by type: alone in their group, final, without a
    /// supertype, and with every reference an id (every host function type, and most
    /// module types). A lookup here needs no canonical form to be built.
    plain: HashMap<FuncType, u32>,
    /// Every type, by id.
    types: Vec<Registered>,
}

/// Engine-wide signature ids (see the module documentation).
#[derive(Default)]
pub struct TypeRegistry {
    inner: RwLock<Inner>,
}

impl TypeRegistry {
    /// The id of a function type the embedder made (for a host function): a group of its
    /// own, final and without a supertype, like a plain `(type (func ...))`. Its concrete
    /// references must be engine ids.
    pub fn register(&self, ty: &FuncType) -> u32 {
        debug_assert!(
            !mentions_module_types(ty),
            "host function types use engine ids"
        );
        if let Some(&id) = self.read().plain.get(ty) {
            return id;
        }
        let group = vec![CanonicalType {
            is_final: true,
            supertype: None,
            ty: ty.clone(),
        }];
        let id = self.register_group(group);
        self.write().plain.insert(ty.clone(), id);
        id
    }

    /// Checks that a function type the embedder made refers to types only by ids of this
    /// registry.
    pub fn check_host_type(&self, ty: &FuncType) -> anyhow::Result<()> {
        for t in ty.params.iter().chain(ty.results.iter()) {
            self.check_host_val_type(*t)?;
        }
        Ok(())
    }

    /// Checks that a value type the embedder made (for a function, table or global)
    /// refers to types only by ids of this registry.
    pub fn check_host_val_type(&self, ty: ValType) -> anyhow::Result<()> {
        match ty.as_ref().map(|r| r.heap) {
            Some(HeapType::Module(i)) => anyhow::bail!(
                "a host type cannot refer to module type {i}: use the engine's type of \
                 the function or value it comes from"
            ),
            Some(HeapType::Engine(id)) if id as usize >= self.read().types.len() => {
                anyhow::bail!("type#{id} is not a type of this engine")
            }
            _ => Ok(()),
        }
    }

    /// The ids of every type of `module`, by module type index.
    pub fn register_module(&self, module: &ModuleInfo) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(module.types.len());
        let subtype = |i: u32| module.subtypes.get(i as usize).copied().unwrap_or_default();
        for &(start, len) in &module.rec_groups {
            let first_type = &module.types[start as usize];
            if len == 1
                && subtype(start) == SubType::default()
                && !mentions_module_types(first_type)
            {
                ids.push(self.register(first_type));
                continue;
            }
            let group = start..start + len;
            // A reference to a type of this group is a position in it; types of earlier
            // groups already have ids.
            let canonical_ref = |h: HeapType| match h {
                HeapType::Module(i) if group.contains(&i) => HeapType::Module(i - start),
                HeapType::Module(i) => HeapType::Engine(ids[i as usize]),
                other => other,
            };
            let canonical: Vec<CanonicalType> = group
                .clone()
                .map(|i| {
                    let sub = subtype(i);
                    CanonicalType {
                        is_final: sub.is_final,
                        supertype: sub.supertype.map(|s| canonical_ref(HeapType::Module(s))),
                        ty: module.types[i as usize].map_heap_types(&canonical_ref),
                    }
                })
                .collect();
            let first = self.register_group(canonical);
            ids.extend((0..len).map(|k| first + k));
        }
        debug_assert_eq!(ids.len(), module.types.len());
        ids
    }

    /// Registers a group in canonical form (if it is new) and returns its first id.
    fn register_group(&self, group: Vec<CanonicalType>) -> u32 {
        if let Some(&first) = self.read().groups.get(&group) {
            return first;
        }
        let mut inner = self.write();
        if let Some(&first) = inner.groups.get(&group) {
            return first;
        }
        let first = inner.types.len() as u32;
        let resolve = |h: HeapType| match h {
            HeapType::Module(position) => HeapType::Engine(first + position),
            other => other,
        };
        for t in &group {
            let supertype = t.supertype.map(|s| match resolve(s) {
                HeapType::Engine(id) => id,
                other => unreachable!("a supertype is a concrete type, not {other}"),
            });
            inner.types.push(Registered {
                ty: t.ty.map_heap_types(&resolve),
                supertype,
            });
        }
        inner.groups.insert(group, first);
        first
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The type with id `id`, its references engine ids.
    pub fn lookup(&self, id: u32) -> Option<FuncType> {
        self.read().types.get(id as usize).map(|r| r.ty.clone())
    }

    /// Whether type `sub` is `sup` or declares it as a (transitive) supertype.
    pub fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        if sub == sup {
            return true;
        }
        let inner = self.read();
        let mut t = sub;
        while let Some(next) = inner.types.get(t as usize).and_then(|r| r.supertype) {
            if next == sup {
                return true;
            }
            t = next;
        }
        false
    }

    /// Value subtyping between types whose references are engine ids.
    pub fn is_val_subtype(&self, sub: ValType, sup: ValType) -> bool {
        match (sub, sup) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of(b, &|x, y| match (x, y) {
                (HeapType::Engine(x), HeapType::Engine(y)) => self.is_subtype(x, y),
                _ => false,
            }),
            _ => sub == sup,
        }
    }
}

fn mentions_module_types(ty: &FuncType) -> bool {
    ty.params
        .iter()
        .chain(ty.results.iter())
        .any(|t| matches!(t.as_ref(), Some(r) if matches!(r.heap, HeapType::Module(_))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fact_environ::RefType;

    fn module(types: Vec<FuncType>, subtypes: Vec<SubType>, groups: Vec<(u32, u32)>) -> ModuleInfo {
        ModuleInfo {
            types,
            subtypes,
            rec_groups: groups,
            ..ModuleInfo::default()
        }
    }

    fn ref_to(i: u32) -> ValType {
        ValType::Ref(RefType::new(true, HeapType::Module(i)))
    }

    #[test]
    fn identical_groups_share_ids_across_modules() {
        let registry = TypeRegistry::default();
        // (rec (type $a (func (param (ref null $b)))) (type $b (func (result (ref null $a)))))
        let pair = || {
            module(
                vec![
                    FuncType::new([ref_to(1)], []),
                    FuncType::new([], [ref_to(0)]),
                ],
                vec![SubType::default(); 2],
                vec![(0, 2)],
            )
        };
        let a = registry.register_module(&pair());
        let b = registry.register_module(&pair());
        assert_eq!(a, b);
        // The same two types as separate groups are different types.
        let separate = module(
            vec![FuncType::new([], []), FuncType::new([ref_to(0)], [])],
            vec![SubType::default(); 2],
            vec![(0, 1), (1, 1)],
        );
        let c = registry.register_module(&separate);
        assert!(c.iter().all(|id| !a.contains(id)));
        // A plain host type is the plain module type.
        let plain = registry.register(&FuncType::new([ValType::I32], []));
        let m = module(
            vec![FuncType::new([ValType::I32], [])],
            vec![SubType::default()],
            vec![(0, 1)],
        );
        assert_eq!(registry.register_module(&m), [plain]);
        // References come back as engine ids.
        let ty = registry.lookup(a[0]).unwrap();
        assert_eq!(
            ty.params[0],
            ValType::Ref(RefType::new(true, HeapType::Engine(a[1])))
        );
    }

    #[test]
    fn declared_supertypes_are_subtypes() {
        let registry = TypeRegistry::default();
        let open = SubType {
            is_final: false,
            supertype: None,
        };
        let sub = SubType {
            is_final: true,
            supertype: Some(0),
        };
        let m = module(
            vec![FuncType::new([], []), FuncType::new([], [])],
            vec![open, sub],
            vec![(0, 1), (1, 1)],
        );
        let ids = registry.register_module(&m);
        assert!(registry.is_subtype(ids[1], ids[0]));
        assert!(!registry.is_subtype(ids[0], ids[1]));
        // Same structure, but final and without the declaration: a different type.
        let plain = registry.register(&FuncType::new([], []));
        assert_ne!(plain, ids[0]);
        assert_ne!(plain, ids[1]);
        assert!(!registry.is_subtype(plain, ids[0]));
    }
}
