/* MESSAGE_IDs of the journal entries an operator may want explained:
 * units/payram-updater.catalog documents each one for `journalctl -x`. */
#pragma once

#define MESSAGE_ID_JOB_STARTED        "add00f488ff8492fb827e7140021d6dc"
#define MESSAGE_ID_JOB_READY          "bcd67fbce9424599b3bb3d8ad4b853cc"
#define MESSAGE_ID_JOB_FAILED         "533bbc14e7b746239576559dc1d9d7f8"
#define MESSAGE_ID_CONFIG_RELOADED    "5d5334c4c4c24a118301ccdbc6198085"
#define MESSAGE_ID_CONFIG_REFUSED     "b8600d84e8b24f7398d8e62a233083ff"
