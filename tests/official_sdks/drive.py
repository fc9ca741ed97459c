"""Drives cloudimage-sim with the clouds' official Python SDKs, unmodified, pointed at the API root.

Usage: drive.py http://127.0.0.1:PORT [family ...]

For each family (ucloud, surfercloud, tencentcloud, alicloud, alicloud_ens, apsarastack): import an image,
describe it until usable, rename it (where the API has a rename action), copy it to another region where the API can
(CopyImage / CancelCopyImage, SyncImages, CopyCustomImage; ENS has no copy), delete it and see it gone, and check
that a wrong secret is refused by the simulator's signature check. Prints one "ok <family> <step>" line per step and exits
non-zero at the first failure. The keys are the simulator's built-in ones (docs/simulator.md).
"""

import sys
import time
import uuid

BASE = sys.argv[1].rstrip("/")
HOSTPORT = BASE.split("://", 1)[1]
WANT = sys.argv[2:] or ["ucloud", "surfercloud", "tencentcloud", "alicloud", "alicloud_ens", "apsarastack"]


def ok(family, step):
    print(f"ok {family} {step}", flush=True)


def until(what, fn, timeout=30.0):
    """Calls fn() until it returns a truthy value; fails after timeout seconds."""
    end = time.time() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- UCloud and SurferCloud: ucloud-sdk-python3 -------------------------------------------------

def ucloud_family(family, public_key, private_key):
    from ucloud.client import Client
    from ucloud.core import exc

    def client(secret):
        return Client({
            "region": "cn-bj2",
            "public_key": public_key,
            "private_key": secret,
            "base_url": BASE,
            "max_retries": 0,
        })

    uhost = client(private_key).uhost()
    name = unique("sdk-ucloud")
    resp = uhost.import_custom_image({
        "ImageName": name,
        "UFileUrl": "https://bucket.cn-bj.ufileos.com/images/disk.qcow2",
        "OsType": "CentOS",
        "OsName": "CentOS 7.9 64",
        "Format": "qcow2",
        "Auth": True,
        "ImageDescription": "imported by the official SDK",
    })
    image_id = resp["ImageId"]
    assert image_id.startswith("uimage-"), resp
    ok(family, "import")

    def state():
        images = uhost.describe_image({"ImageIds": [image_id]})["ImageSet"]
        assert [i["ImageId"] for i in images] == [image_id], images
        assert isinstance(images[0]["CreateTime"], int) and isinstance(images[0]["ImageSize"], int)
        return images[0]["State"] == "Available"

    until("Available", state)
    ok(family, "describe-until-usable")
    # The listing `terraform query` makes: the account's custom images, a page of 100.
    listed = uhost.describe_image({"ImageType": "Custom", "Limit": 100, "Offset": 0})
    assert image_id in [i["ImageId"] for i in listed["ImageSet"]], listed
    assert listed["TotalCount"] >= 1, listed
    ok(family, "list-own-images")
    # UHost has no image rename action (ucloud-sdk-python3 services/uhost/client.py lists Copy, Create, Describe,
    # Import and Terminate for images), so there is nothing to rename with.
    # CopyCustomImage: a copy in another region, Copying until Available (ucloud-sdk-python3 uhost
    # copy_custom_image answers TargetImageId for one target region).
    copied = uhost.copy_custom_image({
        "SourceImageId": image_id,
        "TargetProjectId": "org-sim",
        "TargetRegion": "hk",
        "TargetImageName": unique("sdk-ucloud-copy"),
    })
    copy_id = copied["TargetImageId"]
    assert copy_id.startswith("uimage-") and copy_id != image_id, copied
    first = uhost.describe_image({"Region": "hk", "ImageIds": [copy_id]})["ImageSet"]
    assert first[0]["State"] in ("Copying", "Available"), first
    until("copy Available",
          lambda: uhost.describe_image({"Region": "hk", "ImageIds": [copy_id]})["ImageSet"][0]["State"] == "Available")
    uhost.terminate_custom_image({"Region": "hk", "ImageId": copy_id})
    ok(family, "copy")
    uhost.terminate_custom_image({"ImageId": image_id})
    assert uhost.describe_image({"ImageIds": [image_id]})["ImageSet"] == []
    ok(family, "delete")
    try:
        client("wrong-secret").uhost().describe_image({})
        raise AssertionError("a wrong secret was accepted")
    except exc.RetCodeException as e:
        assert e.code == 171, e
    ok(family, "wrong-secret-refused")


# --- Tencent Cloud: tencentcloud-sdk-python-cvm ----------------------------------------------------

def tencent_family(family):
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models

    def client(secret, region="ap-guangzhou"):
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=HOSTPORT, protocol="http"))
        return cvm_client.CvmClient(
            credential.Credential("AKIDsimTencentSecretId000000000000", secret), region, profile)

    cvm = client("simTencentSecretKey0000000000000")
    req = models.ImportImageRequest()
    req.ImageName = unique("sdk-tc")
    req.ImageUrl = "https://bucket-1250000000.cos.ap-guangzhou.myqcloud.com/images/disk.qcow2"
    req.Architecture = "arm_64"
    req.OsType = "CentOS"
    req.OsVersion = "7"
    req.ImageDescription = "imported by the official SDK"
    image_id = cvm.ImportImage(req).ImageId
    assert image_id and image_id.startswith("img-"), image_id
    ok(family, "import")

    def describe():
        d = models.DescribeImagesRequest()
        d.ImageIds = [image_id]
        return cvm.DescribeImages(d).ImageSet

    def state():
        images = describe()
        assert len(images) == 1 and images[0].ImageId == image_id
        assert images[0].Architecture == "arm", images[0].Architecture
        return images[0].ImageState == "NORMAL"

    until("NORMAL", state)
    ok(family, "describe-until-usable")
    # The listing `terraform query` makes: own images by a part of the name, a page of 100.
    lst = models.DescribeImagesRequest()
    own = models.Filter()
    own.Name, own.Values = "image-type", ["PRIVATE_IMAGE"]
    part = models.Filter()
    part.Name, part.Values = "image-name", [req.ImageName[:8]]
    lst.Filters, lst.Limit, lst.Offset = [own, part], 100, 0
    listed = cvm.DescribeImages(lst)
    assert image_id in [i.ImageId for i in listed.ImageSet], listed
    assert listed.TotalCount >= 1
    ok(family, "list-own-images")
    m = models.ModifyImageAttributeRequest()
    m.ImageId = image_id
    m.ImageName = unique("sdk-tc-renamed")
    cvm.ModifyImageAttribute(m)
    assert describe()[0].ImageName == m.ImageName
    ok(family, "rename")
    # SyncImages: the copy's id in ImageSet (ImageSetRequired), SYNCING with SyncPercent until NORMAL; a syncing
    # image cannot be deleted.
    sreq = models.SyncImagesRequest()
    sreq.ImageIds = [image_id]
    sreq.DestinationRegions = ["ap-shanghai"]
    sreq.ImageName = unique("sdk-tc-copy")
    sreq.ImageSetRequired = True
    synced = cvm.SyncImages(sreq).ImageSet
    assert len(synced) == 1 and synced[0].Region == "ap-shanghai", synced
    copy_id = synced[0].ImageId
    shanghai = client("simTencentSecretKey0000000000000", "ap-shanghai")

    def copy_state():
        q = models.DescribeImagesRequest()
        q.ImageIds = [copy_id]
        images = shanghai.DescribeImages(q).ImageSet
        assert len(images) == 1, images
        if images[0].ImageState == "SYNCING":
            assert isinstance(images[0].SyncPercent, int), images[0].SyncPercent
        return images[0].ImageState == "NORMAL"

    until("copy NORMAL", copy_state)
    dc = models.DeleteImagesRequest()
    dc.ImageIds = [copy_id]
    shanghai.DeleteImages(dc)
    ok(family, "copy")
    d = models.DeleteImagesRequest()
    d.ImageIds = [image_id]
    cvm.DeleteImages(d)
    assert describe() == []
    ok(family, "delete")
    try:
        client("wrong-secret").DescribeImages(models.DescribeImagesRequest())
        raise AssertionError("a wrong secret was accepted")
    except TencentCloudSDKException as e:
        assert e.get_code() == "AuthFailure.SignatureFailure", e
    ok(family, "wrong-secret-refused")


# --- Alibaba Cloud ECS and Apsara Stack: alibabacloud-ecs20140526 -----------------------------------

def copy_images_of(ecs, em, region, image_id):
    r = em.DescribeImagesRequest(region_id=region, image_id=image_id, status="ALL")
    return ecs.describe_images(r).body.images.image


def ecs_family(family, access_key, secret, region):
    from alibabacloud_ecs20140526 import models as em
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models as om

    # Apsara Stack: every call carries the official provider's default headers (aliyun/
    # terraform-provider-alibabacloudstack alibabacloudstack/connectivity/client.go defaultHeaders("Ecs")),
    # which Tea sends through its documented global parameters.
    apsara_headers = {
        "x-acs-regionid": region,
        "x-acs-request-version": "v1",
        "x-acs-asapi-product": "Ecs",
        "x-ascm-product-name": "Ecs",
    }
    extra = om.GlobalParameters(headers=apsara_headers) if family == "apsarastack" else None

    def client(sk):
        return Client(om.Config(access_key_id=access_key, access_key_secret=sk, endpoint=HOSTPORT,
                                protocol="http", region_id=region, global_parameters=extra))

    ecs = client(secret)
    req = em.ImportImageRequest(
        region_id=region,
        image_name=unique("sdk-ecs"),
        description="imported by the official SDK",
        architecture="x86_64",
        ostype="linux",
        platform="CentOS",
        disk_device_mapping=[em.ImportImageRequestDiskDeviceMapping(
            ossbucket="bucket", ossobject="images/disk.qcow2", format="qcow2", disk_image_size=40)],
    )
    if family == "alicloud":
        req.client_token = uuid.uuid4().hex
        req.role_name = "AliyunECSImageImportDefaultRole"
        req.features = em.ImportImageRequestFeatures(nvme_support="supported")
    image_id = ecs.import_image(req).body.image_id
    assert image_id and image_id.startswith("m-"), image_id
    ok(family, "import")

    def describe():
        r = em.DescribeImagesRequest(region_id=region, image_id=image_id, status="ALL")
        return ecs.describe_images(r).body.images.image

    def state():
        images = describe()
        assert len(images) == 1 and images[0].image_id == image_id
        return images[0].status == "Available" and images[0].usable is True

    until("Available and Usable", state)
    ok(family, "describe-until-usable")
    # The listing `terraform query` makes: own images of every status by a part of the name, a page of 100.
    listed = ecs.describe_images(em.DescribeImagesRequest(
        region_id=region, image_owner_alias="self", status="Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated",
        image_name=req.image_name[:7], page_size=100, page_number=1)).body
    assert image_id in [i.image_id for i in listed.images.image], listed
    assert listed.total_count >= 1
    ok(family, "list-own-images")
    new_name = unique("sdk-ecs-renamed")
    ecs.modify_image_attribute(em.ModifyImageAttributeRequest(region_id=region, image_id=image_id,
                                                              image_name=new_name))
    assert describe()[0].image_name == new_name
    ok(family, "rename")
    # CopyImage to another region: the copy's ImageId, listed there (with a Status list) as Creating/Available
    # with IsCopied. Public ECS also cancels a copy (CancelCopyImage: the unfinished copy is deleted).
    dest = "cn-beijing" if family == "alicloud" else region + "-b"
    creq = em.CopyImageRequest(region_id=region, image_id=image_id, destination_region_id=dest,
                               destination_image_name=unique("sdk-ecs-copy"),
                               destination_description="copied by the official SDK")
    if family == "alicloud":
        creq.client_token = uuid.uuid4().hex
        creq.tag = [em.CopyImageRequestTag(key="env", value="sdk")]
    copy_id = ecs.copy_image(creq).body.image_id
    assert copy_id and copy_id.startswith("m-") and copy_id != image_id, copy_id
    if family == "alicloud":
        # The same ClientToken answers the same copy.
        assert ecs.copy_image(creq).body.image_id == copy_id

    def copy_images():
        r = em.DescribeImagesRequest(region_id=dest, image_id=copy_id,
                                     status="Creating,Waiting,Available,UnAvailable,CreateFailed")
        return ecs.describe_images(r).body.images.image

    got = copy_images()
    assert len(got) == 1 and got[0].is_copied is True, got
    until("copy Available", lambda: copy_images()[0].status == "Available")
    ecs.delete_image(em.DeleteImageRequest(region_id=dest, image_id=copy_id))
    if family == "alicloud":
        # A copy still running is cancelled; one finished is refused with IncorrectImageStatus.
        slow = ecs.copy_image(em.CopyImageRequest(region_id=region, image_id=image_id, destination_region_id=dest,
                                                  destination_image_name=unique("sdk-ecs-copy"))).body.image_id
        try:
            ecs.cancel_copy_image(em.CancelCopyImageRequest(region_id=dest, image_id=slow))
            assert copy_images_of(ecs, em, dest, slow) == []
        except Exception as e:
            assert getattr(e, "code", None) == "IncorrectImageStatus", e
            ecs.delete_image(em.DeleteImageRequest(region_id=dest, image_id=slow))
    ok(family, "copy")
    ecs.delete_image(em.DeleteImageRequest(region_id=region, image_id=image_id))
    assert describe() == []
    ok(family, "delete")
    try:
        client("wrong-secret").describe_images(em.DescribeImagesRequest(region_id=region))
        raise AssertionError("a wrong secret was accepted")
    except Exception as e:  # Tea raises its own exception type with the cloud's code
        assert getattr(e, "code", None) == "SignatureDoesNotMatch", e
    ok(family, "wrong-secret-refused")


# --- Alibaba Cloud ENS: alibabacloud-ens20171110 ------------------------------------------------------

def ens_family(family):
    from alibabacloud_ens20171110 import models as nm
    from alibabacloud_ens20171110.client import Client
    from alibabacloud_tea_openapi import models as om

    def client(sk):
        return Client(om.Config(access_key_id="LTAIsimAlicloudKey0000000", access_key_secret=sk,
                                endpoint=HOSTPORT, protocol="http"))

    ens = client("simAlicloudSecret000000000000000")
    req = nm.ImportImageRequest(
        image_name=unique("sdk-ens"),
        compute_type="ens_vm",
        ossregion="cn-beijing",
        ossbucket="bucket",
        ossobject="images/disk.qcow2",
        ostype="linux",
        platform="centos",
        osversion="7.9",
        image_format="qcow2",
        architecture="x86_64",
        target_ossregion_id="cn-beijing",
    )
    image_id = ens.import_image(req).body.image_id
    assert image_id and image_id.startswith("m-"), image_id
    ok(family, "import")

    def describe():
        body = ens.describe_self_images(nm.DescribeSelfImagesRequest(image_id=image_id)).body
        assert isinstance(body.total_count, str), body.total_count
        return body.images.image

    def state():
        images = describe()
        assert len(images) == 1 and images[0].image_id == image_id
        return images[0].status == "Available"

    until("Available", state)
    ok(family, "describe-until-usable")
    # The listing `terraform query` makes: the account's images by a part of the name, a page of 50.
    listed = ens.describe_self_images(nm.DescribeSelfImagesRequest(
        image_name=req.image_name[:7], page_size=50, page_number=1)).body
    assert image_id in [i.image_id for i in listed.images.image], listed
    ok(family, "list-own-images")
    new_name = unique("sdk-ens-renamed")
    ens.modify_image_attribute(nm.ModifyImageAttributeRequest(image_id=image_id, image_name=new_name))
    assert describe()[0].image_name == new_name
    ok(family, "rename")
    ens.delete_image(nm.DeleteImageRequest(image_id=image_id))
    assert describe() == []
    ok(family, "delete")
    try:
        client("wrong-secret").describe_self_images(nm.DescribeSelfImagesRequest())
        raise AssertionError("a wrong secret was accepted")
    except Exception as e:
        assert getattr(e, "code", None) == "SignatureDoesNotMatch", e
    ok(family, "wrong-secret-refused")


RUN = {
    "ucloud": lambda: ucloud_family("ucloud", "sim-ucloud-public-key", "sim-ucloud-private-key"),
    "surfercloud": lambda: ucloud_family("surfercloud", "sim-surfercloud-public-key",
                                         "sim-surfercloud-private-key"),
    "tencentcloud": lambda: tencent_family("tencentcloud"),
    "alicloud": lambda: ecs_family("alicloud", "LTAIsimAlicloudKey0000000", "simAlicloudSecret000000000000000",
                                   "cn-hangzhou"),
    "alicloud_ens": lambda: ens_family("alicloud_ens"),
    # Apsara Stack through the standard ECS API (2014-05-26), as the official Apsara providers call it.
    "apsarastack": lambda: ecs_family("apsarastack", "simApsaraStackKey0000000", "simApsaraStackSecret00000000000",
                                      "cn-qingdao-env17-d01"),
}

for family in WANT:
    RUN[family]()
print("all families ok", flush=True)
