//! Renders the registry documentation (`docs/index.md`, `docs/resources/custom_image.md`) from the provider's own
//! schema, the backends in the cloud registry (their provider blocks and rules) and the files under `examples/`.
//!
//! Shared by the `gen-docs` example (which writes the files) and `tests/docs_examples.rs` (which fails when the
//! committed files differ), so the two can never disagree about what "up to date" means. The output is a pure
//! function of the source tree: no timestamps, no environment.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cloudimage::cloud::params::Kind;
use cloudimage::cloud::registry;
use cloudimage::cloud::rules::{Allowed, CloudRules};
use cloudimage::cloud::Cloud;
use cloudimage::cloud::Param;
use cloudimage::cty::Type;
use cloudimage::provider::schema::{
    Attribute, Block, IdentitySchema, NestedBlock, Nesting, PlanBehaviour, RequiresReplace,
};

/// The provider's short name, as in `cloudimage_custom_image`.
const PROVIDER: &str = "cloudimage";

/// One generated file: its path relative to the repository root and its full content.
pub(crate) struct Page {
    pub path: PathBuf,
    pub content: String,
}

/// Every generated page, in a stable order.
pub(crate) fn render(root: &Path) -> Result<Vec<Page>, String> {
    let provider = cloudimage::resource::provider();
    let resources = provider.resources();
    let resource = resources
        .first()
        .ok_or("the provider has no resource type")?;
    let examples = root.join("examples");
    let read = |rel: &str| -> Result<String, String> {
        let p = examples.join(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };

    let index = index_page(&provider.schema().block, &read("provider/provider.tf")?);
    let short = resource
        .type_name()
        .strip_prefix(&format!("{PROVIDER}_"))
        .unwrap_or(resource.type_name())
        .to_string();
    let resource_page = resource_page(
        resource.type_name(),
        &resource.schema().block,
        resource.identity_schema().as_ref(),
        &ResourceExamples {
            resource: read(&format!("resources/{}/resource.tf", resource.type_name()))?,
            import_sh: read(&format!("resources/{}/import.sh", resource.type_name()))?,
            import_identity: read(&format!(
                "resources/{}/import-by-identity.tf",
                resource.type_name()
            ))?,
        },
    );
    let mut pages = vec![
        Page {
            path: PathBuf::from("docs/index.md"),
            content: index,
        },
        Page {
            path: PathBuf::from(format!("docs/resources/{short}.md")),
            content: resource_page,
        },
    ];
    for list in provider.list_resources() {
        let short = list
            .type_name()
            .strip_prefix(&format!("{PROVIDER}_"))
            .unwrap_or(list.type_name())
            .to_string();
        pages.push(Page {
            path: PathBuf::from(format!("docs/list-resources/{short}.md")),
            content: list_page(
                list.type_name(),
                &list.config_schema().block,
                &read("query/images.tfquery.hcl")?,
            ),
        });
    }
    for function in provider.functions() {
        pages.push(Page {
            path: PathBuf::from(format!("docs/functions/{}.md", function.name())),
            content: function_page(function.name(), &function.schema()),
        });
    }
    Ok(pages)
}

/// The page of a list resource: what `terraform query` finds with it, and its `config` block.
fn list_page(type_name: &str, block: &Block, example: &str) -> String {
    let mut s = front_matter(
        &format!("{type_name} List Resource - {PROVIDER}"),
        &block.description,
    );
    let _ = write!(
        s,
        "# {type_name} (List Resource)\n\n{}\n\nNeeds Terraform 1.14 or later (`terraform query`). Each image \
         found is printed with its identity (`cloud`, `region`, `id`) and `name (status)`; \
         `terraform query -generate-config-out=FILE` writes a `{type_name}` resource and an `import` block (by \
         identity, Terraform 1.12+) for each, which `terraform apply` adopts without changing the image. What the \
         cloud cannot report (for example the object an image was imported from) is written as `null`: it plans \
         nothing for the image as it is, and a plan that would replace the image asks for it.\n\n\
         ## Example Usage\n\n{}\n## Schema\n\n",
        block.description,
        fenced("terraform", example)
    );
    schema_sections(block, None, "###", &mut s);
    s
}

/// The page of a provider function.
fn function_page(name: &str, f: &cloudimage::provider::protocol::FunctionSchema) -> String {
    let mut s = front_matter(&format!("{name} Function - {PROVIDER}"), &f.summary);
    let params: Vec<String> = f
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, type_name(&p.ty).to_lowercase()))
        .collect();
    let _ = write!(
        s,
        "# function: {name}\n\n{}\n\nNeeds Terraform 1.8 or later; call it as `provider::{PROVIDER}::{name}(...)` \
         in a module whose `required_providers` names this provider. It needs no provider configuration.\n\n\
         ## Signature\n\n{}\n## Arguments\n\n",
        f.description,
        fenced("text", &format!("{name}({}) {}", params.join(", "), type_name(&f.returns).to_lowercase()))
    );
    for (i, p) in f.parameters.iter().enumerate() {
        let _ = writeln!(
            s,
            "{}. `{}` ({}) {}",
            i + 1,
            p.name,
            type_name(&p.ty),
            p.description
        );
    }
    s
}

struct ResourceExamples {
    resource: String,
    import_sh: String,
    import_identity: String,
}

/// YAML front matter as the registry reads it; the description is a literal block so no quoting is needed.
fn front_matter(title: &str, description: &str) -> String {
    let mut s = format!("---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n");
    for line in description.lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("---\n\n");
    s
}

fn fenced(lang: &str, body: &str) -> String {
    format!("```{lang}\n{}\n```\n", body.trim_end())
}

/// `String`, `Map of String`, ... as the registry docs spell types.
fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object { .. } => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
        Type::Dynamic => "Dynamic".into(),
    }
}

fn anchor(path: &str) -> String {
    format!("nestedblock--{}", path.replace('.', "--"))
}

fn attribute_line(a: &Attribute) -> String {
    let mut traits = vec![type_name(&a.ty)];
    if a.sensitive {
        traits.push("Sensitive".into());
    }
    if a.deprecated {
        traits.push("Deprecated".into());
    }
    format!("- `{}` ({}) {}\n", a.name, traits.join(", "), a.description)
}

fn block_line(b: &NestedBlock, path: &str) -> String {
    let kind = match b.nesting {
        Nesting::Single | Nesting::Group => "Block".to_string(),
        Nesting::List => "Block List".to_string(),
        Nesting::Set => "Block Set".to_string(),
        Nesting::Map => "Block Map".to_string(),
    };
    let mut traits = vec![kind];
    if b.max_items > 0 && !matches!(b.nesting, Nesting::Single | Nesting::Group) {
        traits.push(format!("Max: {}", b.max_items));
    }
    format!(
        "- `{}` ({}) {} (see [below for nested schema](#{}))\n",
        b.type_name,
        traits.join(", "),
        b.block.description,
        anchor(path)
    )
}

/// A block's members grouped as the registry shows them: Required, Optional, Read-Only; nested blocks with the
/// optional members (none of ours has `min_items`), each described again in its own section below.
fn schema_sections(block: &Block, path: Option<&str>, heading: &str, out: &mut String) {
    let child = |name: &str| match path {
        Some(p) => format!("{p}.{name}"),
        None => name.to_string(),
    };
    let mut required = String::new();
    let mut optional = String::new();
    let mut read_only = String::new();
    for a in &block.attributes {
        let line = attribute_line(a);
        if a.required {
            required.push_str(&line);
        } else if a.optional {
            optional.push_str(&line);
        } else {
            read_only.push_str(&line);
        }
    }
    for b in &block.blocks {
        let line = block_line(b, &child(&b.type_name));
        if b.min_items > 0 {
            required.push_str(&line);
        } else {
            optional.push_str(&line);
        }
    }
    let nested = path.is_some();
    for (title, body) in [
        ("Required", required),
        ("Optional", optional),
        ("Read-Only", read_only),
    ] {
        if body.is_empty() {
            continue;
        }
        if nested {
            let _ = write!(out, "{title}:\n\n{body}\n");
        } else {
            let _ = write!(out, "{heading} {title}\n\n{body}\n");
        }
    }
    for b in &block.blocks {
        let p = child(&b.type_name);
        let _ = write!(
            out,
            "<a id=\"{}\"></a>\n{heading} Nested Schema for `{p}`\n\n",
            anchor(&p)
        );
        schema_sections(&b.block, Some(&p), heading, out);
    }
}

fn index_page(block: &Block, provider_tf: &str) -> String {
    let mut s = front_matter(&format!("Provider: {PROVIDER}"), &block.description);
    let _ = write!(
        s,
        "# {PROVIDER} Provider\n\n{}\n\n\
         It has one resource, [`cloudimage_custom_image`](resources/custom_image.md): it starts the cloud's image \
         import, waits until the image can boot instances, and renames, reads, deletes and imports existing images.\n\n\
         ## Example Usage\n\n{}\n",
        block.description,
        fenced("terraform", provider_tf)
    );
    s.push_str(
        "## Authentication\n\n\
         Each cloud's settings are looked up in this order: the attribute in its block here, then the cloud's \
         environment variable (named in each attribute below), then the cloud's own CLI profile where there is one. \
         A block only needs to be present for clouds whose defaults you want to set in configuration; a cloud \
         that no resource uses is never contacted.\n\n\
         | block | used by `cloud =` | environment | CLI profile |\n\
         |---|---|---|---|\n",
    );
    s.push_str(&authentication_table());
    s.push('\n');
    s.push_str("## Schema\n\n");
    schema_sections(block, None, "###", &mut s);
    finish(s)
}

/// One row per provider block, from the registry: the clouds it configures, its environment variables and its CLI
/// profile.
fn authentication_table() -> String {
    let mut s = String::new();
    for block in registry::blocks() {
        let clouds: Vec<String> = registry::clouds_of_block(block.name)
            .iter()
            .map(|c| format!("`{c}`"))
            .collect();
        let env = block.env_summary.clone().unwrap_or_else(|| {
            block
                .settings
                .iter()
                .filter(|s| !s.env.is_empty())
                .map(|s| {
                    s.env
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
        let _ = writeln!(
            s,
            "| `{}` | {} | {env} | {} |",
            block.name,
            clouds.join(", "),
            block.profile.as_deref().unwrap_or("none")
        );
    }
    s
}

fn rules(c: Cloud) -> &'static CloudRules {
    c.backend().rules()
}

fn cloud_columns() -> String {
    let mut head = String::from("| |");
    let mut rule = String::from("|---|");
    for c in Cloud::ALL {
        let _ = write!(head, " `{c}` |");
        rule.push_str("---|");
    }
    format!("{head}\n{rule}\n")
}

/// What each cloud accepts, straight from `rules(cloud)`.
fn acceptance_table() -> String {
    let mut s = cloud_columns();
    let row = |label: &str, cell: &dyn Fn(Cloud) -> String| {
        let cells: Vec<String> = Cloud::ALL.iter().map(|c| cell(*c)).collect();
        format!("| {label} | {} |\n", cells.join(" | "))
    };
    s.push_str(&row("`name` length", &|c| {
        let r = rules(c);
        let (min, max) = r.name_len;
        if r.name_starts_with_letter {
            format!("{min}-{max}, starts with a letter")
        } else {
            format!("{min}-{max}")
        }
    }));
    for param in Param::ALL.into_iter().filter(|p| !p.def().on_every_cloud) {
        s.push_str(&row(&format!("`{param}`"), &|c| {
            let r = rules(c);
            let values = match (param.def().kind, r.allowed(param)) {
                (_, Allowed::Unsupported) => return "-".to_string(),
                (Kind::Text, Allowed::Any) => "any".to_string(),
                (_, Allowed::Any) => "yes".to_string(),
                (_, Allowed::OneOf(v)) => v
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            if r.requires(param) {
                format!("**required**: {values}")
            } else {
                values
            }
        }));
    }
    s
}

/// The API parameter each attribute becomes on each cloud, from `CloudRules::api_parameter`.
fn parameters_table(block: &Block) -> String {
    let mut s = cloud_columns();
    let configurable = block
        .attributes
        .iter()
        .filter(|a| a.required || a.optional)
        .map(|a| a.name.as_str())
        .chain(block.blocks.iter().map(|b| b.type_name.as_str()));
    for attribute in configurable {
        let cells: Vec<String> = Cloud::ALL
            .iter()
            .map(|c| {
                match Param::from_attribute(attribute).and_then(|p| rules(*c).api_parameter(p)) {
                    Some(p) => format!("`{}`", p.replace(", ", "`, `")),
                    None => "-".to_string(),
                }
            })
            .collect();
        if cells.iter().all(|c| c == "-") {
            continue;
        }
        let _ = writeln!(s, "| `{attribute}` | {} |", cells.join(" | "));
    }
    s
}

/// Which configurable attribute changes happen in place and which replace the image: the plan behaviour the schema
/// declares, and the clouds' exceptions (`CloudRules::changes_in_place`).
fn changes_table(block: &Block) -> String {
    let mut s = cloud_columns();
    let configurable = block
        .attributes
        .iter()
        .filter(|a| a.required || a.optional)
        .map(|a| (a.name.as_str(), a.plan))
        .chain(block.blocks.iter().map(|b| (b.type_name.as_str(), b.plan)));
    for (attribute, plan) in configurable {
        let replaces = |plan: PlanBehaviour| plan.requires_replace != RequiresReplace::Never;
        let cells: Vec<&str> = Cloud::ALL
            .iter()
            .map(|c| {
                let param = Param::from_attribute(attribute);
                if param.is_some_and(|p| !rules(*c).supports(p)) {
                    "-"
                } else if !replaces(plan) || param.is_some_and(|p| rules(*c).changes_in_place(p)) {
                    "in place"
                } else {
                    "**replace**"
                }
            })
            .collect();
        let _ = writeln!(s, "| `{attribute}` | {} |", cells.join(" | "));
    }
    s
}

fn identity_list(identity: &IdentitySchema) -> String {
    let mut s = String::new();
    for a in &identity.attributes {
        let need = if a.required_for_import {
            "Required"
        } else {
            "Optional"
        };
        let _ = writeln!(
            s,
            "- `{}` ({}, {need}) {}",
            a.name,
            type_name(&a.ty),
            a.description
        );
    }
    s
}

fn resource_page(
    type_name: &str,
    block: &Block,
    identity: Option<&IdentitySchema>,
    ex: &ResourceExamples,
) -> String {
    let mut s = front_matter(
        &format!("{type_name} Resource - {PROVIDER}"),
        &block.description,
    );
    let _ = write!(
        s,
        "# {type_name} (Resource)\n\n{}\n\n## Example Usage\n\n{}\n\
         Complete configurations for each cloud are in the repository's `examples/` directory: `ucloud/`, \
         `surfercloud/`, `tencentcloud/`, `alicloud/`, `alicloud_ens/`, `apsarastack/`, a `for_each` fan-out over \
         several clouds in `multi-cloud/`, copies to several regions and shares in `multi-region/`, a local disk image uploaded and imported in `local-file/`, and `quickstart/` \
         for the local simulator.\n\n",
        block.description,
        fenced("terraform", &ex.resource)
    );
    s.push_str("## Schema\n\n");
    schema_sections(block, None, "###", &mut s);

    s.push_str(
        "## Clouds\n\n\
         The `cloud` attribute picks the backend; each accepts a different subset of attributes. `plan` (and \
         `validate`) reject an attribute the chosen cloud does not take (`-` below), a value outside its list, and \
         a missing **required** one, pointing at the attribute.\n\n\
         ### Accepted attributes\n\n",
    );
    s.push_str(&acceptance_table());
    s.push_str(
        "\nValues are matched case-insensitively and sent in the spelling shown.\n\n\
         ### API parameters\n\n\
         The parameter of the cloud's image-import call each attribute becomes, to check against the cloud's own \
         reference page (`-`: the cloud's call has none).\n\n",
    );
    s.push_str(&parameters_table(block));
    s.push_str(
        "\nSet by the provider, not by an attribute: UCloud/SurferCloud `Auth` (always `true`, as the API requires), \
         `ProjectId` (the provider block's `project_id`), `PublicKey` and `Signature`; Tencent `DryRun` (the \
         provider block's `plan_dry_run`, used at plan time); ENS `ComputeType` (always `ens_vm`, its only value); \
         ECS `ClientToken` (one per create, so a retried import cannot import twice); Apsara Stack's route-gateway \
         body parameters `version` and `regionId` (from the API version and `region`).\n\n\
         Deliberately absent: Apsara Stack `DiskDeviceMapping.N.DiskImSize` (its page calls it about to be \
         deprecated in favour of `DiskImageSize`, which `system_disk_size_gb` and `data_disks.size_gb` set) and \
         `DiskDeviceMapping.N.Device` (its page recommends not using it; the cloud names devices itself).\n\n\
         ### Changes\n\n\
         A change either updates the image in place or replaces it: the new image is imported (and waited for) \
         and the old one deleted. `region`, `os_type` and `architecture` are filled in by the cloud when left out; \
         a cloud-chosen value never causes a replacement, a configured change does.\n\n",
    );
    s.push_str(&changes_table(block));

    s.push_str(
        "\n## Timeouts\n\n\
         A create that outlives `timeouts.create` stops waiting: the image is kept in state as tainted, and the next \
         apply replaces it. A failed import (the cloud's state word is in the error) is tainted the same way. A \
         cloud that cannot delete an image while it imports (ECS `ImageIsImporting`, Tencent Cloud \
         `InvalidImageId.IncorrectState`) gets its import cancelled where the API allows it (ECS `CancelTask`) and \
         is otherwise waited for, within `timeouts.delete`, so the replacement goes ahead.\n\n\
         ## Interrupted applies\n\n\
         Terraform records an image only when the provider answers, up to an hour after the import call. If the \
         provider dies in between (a cancelled CI job, an OOM kill, a closed laptop), the next apply takes over the \
         image the interrupted one started instead of importing a second: it finds it by the ID or send time kept \
         in a small create journal (`$XDG_STATE_HOME/terraform-provider-cloudimage/creates`, else \
         `~/.local/state/...`; removed once Terraform has the image), or, on Tencent Cloud and Alibaba ECS, by the \
         `cloudimage:fingerprint` tag every image gets at import (a fingerprint of the configuration and account; \
         it is not shown in `tags`). An image of the same name that nothing proves is this configuration's is \
         never taken over: the apply stops with an error that names it and shows the import command, on every \
         cloud, including UCloud, SurferCloud and ENS, which would otherwise accept a second image of that name.\n\n\
         ## Import\n\n\
         Import an existing image with an ID of the form `<cloud>/<region>/<image-id>`:\n\n",
    );
    s.push_str(&fenced("shell", &ex.import_sh));
    s.push_str(
        "\nor, with an `import` block, `id = \"<cloud>/<region>/<image-id>\"`. Terraform 1.12 and later can also \
         import by identity:\n\n",
    );
    s.push_str(&fenced("terraform", &ex.import_identity));
    if let Some(identity) = identity {
        s.push_str("\nThe identity has these attributes:\n\n");
        s.push_str(&identity_list(identity));
    }
    s.push_str(
        "\nAn import never plans a replacement that your configuration did not cause. Values a cloud reports in its \
         own spelling count as the same value (`Linux` for `linux`, Tencent Cloud's `arm` for `arm64`, ECS's \
         `oss://bucket/key` for `https://bucket.oss-<region>.aliyuncs.com/key`). What the cloud reports is read \
         back: ECS and Apsara Stack report the imported objects and formats (`source_url`, `format`, \
         `data_disks`), Tencent Cloud, ECS, ENS and Apsara Stack the `platform`. What a cloud cannot report \
         (`os_version` everywhere, `boot_mode`, `license_type`, and the rest on UCloud and SurferCloud) is null \
         after the import, and the first plan records it from your configuration as an in-place update: \
         applying it makes no API call, and the plan after it is empty.\n",
    );
    finish(s)
}

/// One trailing newline, no trailing blank lines.
fn finish(s: String) -> String {
    format!("{}\n", s.trim_end())
}
