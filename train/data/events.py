"""Sound-event classes and where each one's audio comes from.

48 classes (the model's ``num_tag_classes``), each named by its AudioSet ontology display name:
- 34 from real recordings in Debian game, theme and sound data packages, matched by file path (``REAL_RULES``;
  the packages are ``deps.DEB_DATA_PACKAGES``);
- 9 real sampled instruments rendered by fluidsynth from the General MIDI soundfont (``INSTRUMENTS``);
- 5 procedural sox/numpy sounds (sirens, alarms, tones, noise);
- ``Speech``: real voice lines from hedgewars plus utterances of the synthetic speech corpus.
A source is one file (real) or one seed (generated); a test clip never shares a source with a training clip.
"""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .effects import SAMPLE_RATE, coloured_noise, resample, to_mono

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


@dataclass(frozen=True)
class EventClass:
    index: int
    name: str  # AudioSet-style display name
    kind: str  # real | instrument | procedural

    @property
    def mid(self) -> str:
        """A stable machine id in the AudioSet style; the index never changes for a name."""
        return f"/m/mt2kd_{self.index:02d}"


CLASSES = tuple(EventClass(i, name, kind) for i, (name, kind) in enumerate((
    # 0-23: the first corpus's classes, at the same indices ("Livestock, ..." became "Cattle, bovinae", the
    # other farm animals have their own classes below; "Sword, blade" and "Bow and arrow" took the AudioSet
    # names "Clang" and "Arrow")
    ("Speech", "real"),
    ("Screaming", "real"),
    ("Laughter", "real"),
    ("Bird", "real"),
    ("Cattle, bovinae", "real"),
    ("Canidae, dogs, wolves", "real"),
    ("Walk, footsteps", "real"),
    ("Explosion", "real"),
    ("Fire", "real"),
    ("Water", "real"),
    ("Clang", "real"),
    ("Arrow", "real"),
    ("Tools", "real"),
    ("Gunshot, gunfire", "real"),
    ("Piano", "instrument"),
    ("Guitar", "instrument"),
    ("Violin, fiddle", "instrument"),
    ("Flute", "instrument"),
    ("Drum kit", "instrument"),
    ("Siren", "procedural"),
    ("Alarm", "procedural"),
    ("Sine wave", "procedural"),
    ("White noise", "procedural"),
    ("Pink noise", "procedural"),
    # 24-47: sound events v2
    ("Horse", "real"),
    ("Sheep", "real"),
    ("Pig", "real"),
    ("Chicken, rooster", "real"),
    ("Insect", "real"),
    ("Grunt", "real"),
    ("Music", "real"),
    ("Typing", "real"),
    ("Door", "real"),
    ("Telephone", "real"),
    ("Vehicle horn, car horn, honking", "real"),
    ("Engine", "real"),
    ("Aircraft", "real"),
    ("Rail transport", "real"),
    ("Traffic noise, roadway noise", "real"),
    ("Crowd", "real"),
    ("Whoosh, swoosh, swish", "real"),
    ("Thunder", "real"),
    ("Wood", "real"),
    ("Thump, thud", "real"),
    ("Organ", "instrument"),
    ("Trumpet", "instrument"),
    ("Saxophone", "instrument"),
    ("Harp", "instrument"),
)))
CLASS_BY_NAME = {c.name: c for c in CLASSES}

# (class, package, regex on the file's path inside the package, lower case). The first match wins,
# so the exclusions (voice lines that are screams, grunts or laughs) come before the general Speech rule.
_HW = r"usr/share/games/hedgewars/data/sounds/"
_HWV = _HW + r"voices/[^/]+/"
_WN = r"usr/share/games/wesnoth/1\.16/data/core/sounds/"
_MT = r"usr/share/games/minetest/games/minetest_game/mods/"
_TP = r"usr/share/tuxpaint/stamps/"
_MG = r"usr/share/games/megaglest/"
_WL = r"usr/share/games/widelands/data/sound/"
_FD = r"usr/share/sounds/freedesktop/stereo/"
_S3 = r"usr/share/games/scorched3d/data/globalmods/(apoc|none)/data/"
_BT = r"usr/share/games/btanks/data/"
_HE = r"usr/share/games/heroes/sfx/"
_LC = r"usr/share/games/lincity-ng/sounds/"
_NP = r"usr/share/games/netpanzer/sound/"
_TF = r"usr/share/games/tuxfootball/sound/"
_WW = r"usr/share/wordwarvi/sounds/"
_WX = r"usr/share/games/warmux/"
_FL = r"usr/share/games/flare/mods/fantasycore/"
_LO = r"usr/share/sounds/lomiri/"
REAL_RULES = (
    # --- human voice ---
    ("Laughter", "hedgewars-data", _HWV + r"laugh\d*\.ogg$"),
    ("Laughter", "wesnoth-1.16-data", r"usr/share/games/wesnoth/1\.16/data/.*laugh[^/]*\.(ogg|wav)$"),
    ("Laughter", "btanks-data", _BT + r"sounds/laugh\d+\.ogg$"),
    ("Grunt", "hedgewars-data", _HWV + r"ooff\d*\.ogg$|" + _HW + r"hell_(ooff|ugh)\.ogg$"),
    ("Grunt", "warmux-data", _WX + r"sound/default/voices/injured_(light|medium)\d\.ogg$"),
    ("Grunt", "flare-game", _FL + r"soundfx/(male|female)_hit\.ogg$"),
    ("Screaming", "hedgewars-data", _HWV + r"(ow|nooo|ouch|poisonmoan)\d*\.ogg$|" + _HW + r"hell_ow\.ogg$"),
    ("Screaming", "wesnoth-1.16-data", _WN + r"(human|human-female|human-old|elf|dwarf)-(die|hit)(-\d+)?\.ogg$"),
    ("Screaming", "megaglest-data", _MG + r".*/(swordman|archer|spearman|initiate|worker)_die\d*\.(ogg|wav)$"),
    ("Screaming", "scorched3d-data", _S3 + r"wav/misc/scream(ing|\d)\.wav$"),
    ("Screaming", "netpanzer-data", _NP + r"scream_(\d|ohgod)\.wav$"),
    ("Screaming", "wordwarvi-sound", _WW + r"(aaaah_it_burns|fallingscreamhi)\.ogg$"),
    ("Screaming", "btanks-data", _BT + r"sounds/kamikaze-scream\.ogg$"),
    ("Screaming", "warmux-data", _WX + r"sound/default/voices/(death|injured_high)\d\.ogg$"),
    ("Screaming", "flare-game", _FL + r"soundfx/(male|female)_die\.ogg$"),
    ("Speech", "hedgewars-data", _HW + r"voices/(default|default_uk|british|classic|mobster|pirate|surfer|singer"
                                       r"|hillbilly)/(?!jump|firepunch|hmm|uh|poison|oops|drat)[a-z]+\d*\.ogg$"),
    # --- animals ---
    ("Chicken, rooster", "tuxpaint-stamps-default", _TP + r"animals/birds/(rooster|hen)\.ogg$"),
    ("Chicken, rooster", "megaglest-data", _MG + r".*/(chicken[a-z_]*|rooster)\d*\.(ogg|wav)$"),
    ("Chicken, rooster", "scorched3d-data", _S3 + r"wav/misc/rooster\.wav$"),
    ("Bird", "tuxpaint-stamps-default", _TP + r"animals/birds/(.*/)?(?!nandou)[a-z_]+\d*\.ogg$"),  # nandou: all zeros
    ("Bird", "wesnoth-1.16-data", _WN + r"ambient/birds.*\.ogg$"),
    ("Bird", "widelands-data", _WL + r"animals/bird\d+_\d+\.ogg$|usr/share/games/widelands/data/world/critters/duck/"
                                     r"duck_\d+\.ogg$"),
    ("Bird", "megaglest-data", _MG + r".*/(owl|hawk|eagle_[a-z]+)\d*\.(ogg|wav)$"),
    ("Bird", "scorched3d-data", _S3 + r"wav/misc/(birdchirp|birds|gull)\d\.wav$"),
    ("Bird", "flare-game", _FL + r"soundfx/environment/(bird_twitter|forest_owl|raven)_loop\.ogg$"),
    ("Cattle, bovinae", "tuxpaint-stamps-default", _TP + r"animals/mammals/bovines/(cow|cow_white|bull|bison)\.ogg$"),
    ("Cattle, bovinae", "widelands-data", _WL + r"farm/ox_\d+\.ogg$"),
    ("Cattle, bovinae", "megaglest-data", _MG + r".*/((cow|bull)_[a-z]+\d*\.wav|mudchute_cow_\d*\.ogg)$"),
    ("Cattle, bovinae", "scorched3d-data", _S3 + r"wav/misc/(cows|moo)\.wav$"),
    ("Cattle, bovinae", "btanks-data", _BT + r"sounds/cow\.ogg$"),
    ("Horse", "tuxpaint-stamps-default", _TP + r"animals/mammals/equines/[a-z_]+\.ogg$"),
    ("Horse", "widelands-data", _WL + r"farm/(horse_\d+|donkey)\.ogg$"),
    ("Horse", "wesnoth-1.16-data", _WN + r"horse(-elf)?-(hit|die|canter)(-\d+)?\.(ogg|wav)$"),
    ("Horse", "megaglest-data", _MG + r".*/horseman_walk\d*\.wav$"),  # hooves: clip-clop
    ("Sheep", "tuxpaint-stamps-default", _TP + r"animals/mammals/bovines/(sheep|sheep_lamb|ram)\.ogg$"),
    ("Sheep", "widelands-data", _WL + r"farm/sheep_\d+\.ogg$"),
    ("Sheep", "megaglest-data", _MG + r".*/sheep(_die)?\d*\.wav$"),
    ("Sheep", "scorched3d-data", _S3 + r"wav/misc/sheep\.wav$"),
    ("Pig", "tuxpaint-stamps-default", _TP + r"animals/mammals/pig[a-z_]*\d*\.ogg$"),
    ("Pig", "megaglest-data", _MG + r".*/pig_[a-z]+\d*\.wav$"),
    ("Canidae, dogs, wolves", "tuxpaint-stamps-default", _TP + r"animals/mammals/dogs/[a-z_]+\d*\.ogg$"),
    ("Canidae, dogs, wolves", "wesnoth-1.16-data", _WN + r"wolf-[a-z]+(-\d+)?\.ogg$"),
    ("Canidae, dogs, wolves", "widelands-data", _WL + r"animals/(wolf|coyote)_\d+\.ogg$"),
    ("Canidae, dogs, wolves", "megaglest-data", _MG + r".*/wolf\d*\.(ogg|wav)$"),
    ("Canidae, dogs, wolves", "scorched3d-data", _S3 + r"wav/misc/(dog\d?|wolf)\.wav$"),
    ("Insect", "tuxpaint-stamps-default", _TP + r"animals/insects/(bee|mosquito|hornet|grasshopper)\.ogg$"),
    ("Insect", "widelands-data", _WL + r"animals/crickets\d_\d+\.ogg$"),
    ("Insect", "hedgewars-data", _HW + r"bee\.ogg$"),
    ("Insect", "megaglest-data", _MG + r".*/beehive/sounds/bee\d\.wav$"),
    ("Insect", "scorched3d-data", _S3 + r"wav/explosions/bees\.wav$"),
    # --- natural sounds ---
    ("Thunder", "scorched3d-data", _S3 + r"wav/(misc/thunder\d?|explosions/thunder)\.wav$"),
    ("Thunder", "tuxpaint-stamps-default", _TP + r"naturalforces/lightningbolt\.ogg$"),
    ("Thunder", "wesnoth-1.16-data", _WN + r"lightning\.ogg$"),
    ("Thunder", "flare-game", _FL + r"soundfx/powers/thunder\.ogg$"),
    ("Fire", "minetest-data", _MT + r"fire/.*(fire|flame|small|large)[.\d]*ogg$"),
    ("Fire", "hedgewars-data", _HW + r"(flamethrower|molotov|blowtorch)\.ogg$"),
    ("Fire", "wesnoth-1.16-data", _WN + r"(fire|flame-big|torch|campfire|melee-fire)\.ogg$|" + _WN + r"ambient/.*fire.*\.ogg$"),
    ("Fire", "megaglest-data", _MG + r".*/wicker_fire\.(ogg|wav)$"),
    ("Fire", "lincity-ng-data", _LC + r"fire(wasteland)?\d\.wav$"),
    ("Fire", "btanks-data", _BT + r"sounds/fire(-fadeout)?\.ogg$"),
    ("Fire", "warmux-data", _WX + r"sound/default/weapons/(flame|embers\d)\.ogg$"),
    ("Fire", "flare-game", _FL + r"soundfx/(environment/open_fire(_loop)?|powers/burn)\.ogg$"),
    # Water: streams, drips, bubbles, splashes, waves and rain (AudioSet files Rain under Water)
    ("Water", "minetest-data", _MT + r".*water(?!_footstep)[a-z_]*[.\d]*ogg$"),  # footsteps in water stay footsteps
    ("Water", "hedgewars-data", _HW + r"(splash|droplet\d*|underwater|bath|beewater|planewater"
                                      r"|rubberduck_water)\.ogg$"),
    ("Water", "wesnoth-1.16-data", _WN + r"(water-blast)\.wav$|" + _WN + r"ambient/.*(water|ocean|river|wave).*\.ogg$"),
    ("Water", "megaglest-data", _MG + r".*/(water|rain)\d*\.(ogg|wav)$"),
    ("Water", "widelands-data", _WL + r".*(winebubble|beerbubble)_?\d*\.ogg$"),
    ("Water", "lincity-ng-data", _LC + r"(water\d|parklandlake\d)\.wav$"),
    ("Water", "scorched3d-data", _S3 + r"wav/misc/(oceanwaves|rain|splash)\.wav$"),
    ("Water", "warmux-data", _WX + r"sound/default/misc/sink\.ogg$"),
    ("Water", "flare-game", _FL + r"soundfx/environment/(river|cave_droplets)_loop\.ogg$|"
                            r"usr/share/games/flare/mods/empyrean_campaign/soundfx/environment/rain\.ogg$"),
    # --- things ---
    ("Walk, footsteps", "minetest-data", _MT + r".*_footstep[.\d]*ogg$"),
    ("Walk, footsteps", "hedgewars-data", _HW + r"steps\.ogg$"),
    ("Walk, footsteps", "megaglest-data", _MG + r".*/(behemoth|golem|dr)_walk\d*\.(ogg|wav)$"),
    ("Walk, footsteps", "flare-game", _FL + r"soundfx/steps/step_[a-z]+\d\.ogg$"),
    ("Walk, footsteps", "btanks-data", _BT + r"sounds/man-steps\.ogg$"),
    ("Walk, footsteps", "warmux-data", _WX + r"sound/default/misc/step\.ogg$"),
    ("Explosion", "hedgewars-data", _HW + r"(explosion|grenadeimpact|mineimpact|melonimpact|airmine_impact)\.ogg$"),
    ("Explosion", "minetest-data", _MT + r"tnt/.*(explode)[.\d]*ogg$"),
    ("Explosion", "wesnoth-1.16-data", _WN + r"(explosion|cave-in|rumble|fuse)\.ogg$"),
    ("Explosion", "megaglest-data", _MG + r".*/(tech_building_fall|magic_building_fall)\d*\.(ogg|wav)$"),
    ("Explosion", "scorched3d-data", _S3 + r"wav/explosions/(exp|large|medium|small|xlarge|tank)\.wav$"),
    ("Explosion", "btanks-data", _BT + r"sounds/(building-|vehicle-|nuke-|old-nuke-|dirt-bullet-)?explosion\d?\.ogg$"),
    ("Explosion", "netpanzer-data", _NP + r"expl_\d\.wav$"),
    ("Explosion", "wordwarvi-sound", _WW + r"(big_explosion|bombexplosion|missile_explosion)\.ogg$"),
    ("Explosion", "warmux-data", _WX + r"sound/default/weapons/(explosion\d|dynamite_exp|riot_bomb_exp)\.ogg$"),
    ("Explosion", "heroes-sound-effects", _HE + r"explo\d+\.wav$"),
    ("Explosion", "lincity-ng-data", _LC + r"rocketexplosion\d\.wav$"),
    # metal struck on metal: sword blows, metal bangs, anvils, pings
    ("Clang", "megaglest-data", _MG + r".*/(swordman|swordman_berserk)/sounds/.*attack\d*\.(ogg|wav)$"),
    ("Clang", "wesnoth-1.16-data", _WN + r"(sword-\d|knife)\.ogg$"),
    ("Clang", "hedgewars-data", _HW + r"knife_impact\.ogg$"),
    ("Clang", "wordwarvi-sound", _WW + r"(metalbang\d|clang)\.ogg$"),
    ("Clang", "widelands-data", _WL + r"metal/(gold|iron)ping\.ogg$"),
    ("Clang", "warmux-data", _WX + r"sound/default/weapons/anvil_collision\.ogg$"),
    ("Arrow", "wesnoth-1.16-data", _WN + r"(bow|bow-puny|crossbow)(-fire)?(-miss)?\.ogg$"),
    ("Arrow", "megaglest-data", _MG + r".*/(archer_attack|arrow_hit|firearrowhit)\d*\.(ogg|wav)$"),
    ("Whoosh, swoosh, swish", "wesnoth-1.16-data", _WN + r"(dagger-swish|miss-\d|throw-\d|(staff|flail|mace|club"
                                                         r"|spear|torch|sling|sling-big|hatchet|throwing-knife)-miss)"
                                                         r"\.(ogg|wav)$"),
    ("Wood", "widelands-data", _WL + r"woodcutting/.*\.ogg$"),  # chopping, trees falling
    ("Wood", "minetest-data", _MT + r".*_dig_choppy[.\d]*ogg$"),
    ("Wood", "megaglest-data", _MG + r".*/worker_harvest_wood\d*\.wav$"),
    ("Thump, thud", "minetest-data", _MT + r".*_place_node(_hard)?[.\d]*ogg$"),
    ("Thump, thud", "wordwarvi-sound", _WW + r"(stonebang\d|new_ground_smack|bodyslam)\.ogg$"),
    ("Thump, thud", "scorched3d-data", _S3 + r"wav/explosions/thud\.wav$"),
    ("Thump, thud", "warmux-data", _WX + r"sound/default/misc/box_hitting_ground\.ogg$"),
    ("Tools", "widelands-data", _WL + r".*(hammering|sawing|smith|sawmill|stonecutter|benchsaw|toolsmith|sharpening"
                                      r"|geologist_hammer|stonemason)_?\d*\.ogg$"),
    ("Tools", "minetest-data", _MT + r".*(dig_|tool_breaks|dug_).*ogg$"),
    ("Tools", "hedgewars-data", _HW + r"(pickhammer|hammer|drillgun)\.ogg$"),
    ("Tools", "megaglest-data", _MG + r".*/(worker_mine|technician_build|anvil|technician_mine|worker_build)\d*\.(ogg|wav)$"),
    ("Tools", "tuxpaint-stamps-default", _TP + r"household/tools/[a-z_]+\d*\.ogg$"),
    ("Tools", "lincity-ng-data", _LC + r"blacksmith\d\.wav$"),
    ("Tools", "warmux-data", _WX + r"sound/default/weapons/airhammer_used\.ogg$"),
    # guns, machine guns and cannons (AudioSet's Machine gun and Artillery fire are kinds of Gunshot)
    ("Gunshot, gunfire", "hedgewars-data", _HW + r"(gun|shotgunfire|minigun|sniperreload|shotgunreload|mortar"
                                                r"|sinegun|landgun)\.ogg$"),
    ("Gunshot, gunfire", "wesnoth-1.16-data", _WN + r"(gunshot|thunderstick|dragonstick)(-miss)?\.(ogg|wav)$"),
    ("Gunshot, gunfire", "megaglest-data", _MG + r".*/(machine_attack\w*|defense_tower_attack)\d*\.(ogg|wav)$"),
    ("Gunshot, gunfire", "scorched3d-data", _S3 + r"wav/shoot/(machinegun|shotgun)\.wav$"),
    ("Gunshot, gunfire", "warmux-data", _WX + r"sound/default/weapons/(gun|m16|shotgun)\.ogg$"),
    ("Gunshot, gunfire", "netpanzer-data", _NP + r"(battle_mg1|[a-z]{2}-fire)\.wav$"),
    ("Gunshot, gunfire", "btanks-data", _BT + r"sounds/(cannon\d|shot|machinegunner-bullet)\.ogg$"),
    ("Music", "hedgewars-data", r"usr/share/games/hedgewars/data/music/[^/]+\.ogg$"),
    ("Music", "widelands-data", r"usr/share/games/widelands/data/music/[^/]+\.ogg$"),
    ("Music", "megaglest-data", _MG + r".*/music/[^/]+\.ogg$"),
    ("Music", "warmux-data", _WX + r"music/.*\.ogg$"),
    ("Music", "flare-game", _FL + r"music/(?!wind_ambient)[^/]+\.ogg$"),
    ("Music", "btanks-data", _BT + r"tunes/[^/]+\.ogg$"),
    ("Music", "scorched3d-data", _S3 + r"music/[^/]+\.ogg$"),
    # each key of one IBM Model M keyboard, pressed (-0) and released (-1)
    ("Typing", "bucklespring-data", r"usr/share/buckle/wav/[0-9a-f]+-[01]\.wav$"),
    ("Door", "minetest-data", _MT + r"(doors|xpanes)/sounds/.*door.*\.ogg$"),
    ("Door", "flare-game", _FL + r"soundfx/door_open\.ogg$"),
    ("Door", "wordwarvi-sound", _WW + r"toyota_celica_cardoor_sample\.ogg$"),
    ("Telephone", "sound-theme-freedesktop", _FD + r"phone-(incoming-call|outgoing-busy|outgoing-calling)\.oga$"),
    ("Telephone", "lomiri-sounds", _LO + r"ringtones/(?!alarm)[^/]+\.ogg$"),
    ("Vehicle horn, car horn, honking", "scorched3d-data", _S3 + r"wav/misc/carhorn\d\.wav$"),
    ("Vehicle horn, car horn, honking", "heroes-sound-effects", _HE + r"claxon\.wav$"),
    ("Vehicle horn, car horn, honking", "btanks-data", _BT + r"sounds/klaxon(-funny)?\.ogg$"),
    ("Engine", "btanks-data", _BT + r"sounds/(engine-car|engine-start|engine-vehicle|tank-move|vehicle-sound)\.ogg$"),
    ("Engine", "netpanzer-data", _NP + r"(hevidle|hevmov|hevstart|tankidle)\.wav$"),
    ("Engine", "scorched3d-data", _S3 + r"wav/movement/tankmove\.wav$"),
    ("Aircraft", "hedgewars-data", _HW + r"(plane|rcplane)\.ogg$"),
    ("Aircraft", "scorched3d-data", _S3 + r"wav/misc/(cessna|f16_\d|f18_\d|jet|t38|helicopter|apache_1)\.wav$"),
    ("Aircraft", "btanks-data", _BT + r"sounds/helicopter\.ogg$"),
    ("Aircraft", "warmux-data", _WX + r"sound/default/weapons/aircraft_flying\.ogg$"),
    ("Aircraft", "wordwarvi-sound", _WW + r"jetwash\.ogg$"),
    ("Rail transport", "minetest-data", _MT + r"carts/sounds/carts_cart_moving[.\d]*ogg$"),
    ("Rail transport", "lincity-ng-data", _LC + r"railtrain\d\.wav$"),
    ("Rail transport", "btanks-data", _BT + r"sounds/train\.ogg$"),
    ("Traffic noise, roadway noise", "lincity-ng-data", _LC + r"trafic(high|low)\d\.wav$"),
    ("Traffic noise, roadway noise", "scorched3d-data", _S3 + r"wav/misc/citysounds\.wav$"),
    ("Traffic noise, roadway noise", "btanks-data", _BT + r"sounds/ambient/city\.ogg$"),
    ("Crowd", "heroes-sound-effects", _HE + r"foule\d\.wav$"),
    ("Crowd", "lincity-ng-data", _LC + r"sportscroud\d\.wav$"),
    ("Crowd", "tuxfootball", _TF + r"crowd(boo|cheer|ooh)\.wav$"),
    ("Crowd", "scorched3d-data", _S3 + r"wav/misc/cheeringloop\.wav$"),
)
_LANGUAGE_SUFFIX = re.compile(r"_(desc|[a-z]{2,3}(_[a-z]{2})?)\.ogg$")  # tuxpaint's spoken names, per language


def find_real_sources(extracted: dict[str, Path]) -> dict[str, list[str]]:
    """Map class name -> sorted absolute paths of real recordings, from the unpacked data packages."""
    compiled = [(cls, pkg, re.compile(rx)) for cls, pkg, rx in REAL_RULES]
    sources: dict[str, list[str]] = {c.name: [] for c in CLASSES if c.kind == "real"}
    seen: set[str] = set()  # content hashes: games ship one file under several names, which would leak across splits
    for package, root in sorted(extracted.items()):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(root).as_posix().lower()
            if package == "tuxpaint-stamps-default" and _LANGUAGE_SUFFIX.search(rel):
                continue
            for cls, pkg, rx in compiled:
                if pkg == package and rx.search(rel):
                    digest = hashlib.sha1(path.read_bytes()).hexdigest()
                    if digest not in seen:
                        seen.add(digest)
                        sources[cls].append(str(path))
                    break
    return sources


WHOLE_REAL_S = 120.0  # recordings up to this long are read whole (sparse ambience: a howl in 90 s)
LONG_REAL_S = 30.0  # of a longer one (music) only this much, from its middle: a 6-min track costs 0.15 s, not 2 s


def load_real(path: str) -> np.ndarray:
    with sf.SoundFile(path) as f:
        rate, count = f.samplerate, f.frames
        if count > WHOLE_REAL_S * rate:
            count = int(LONG_REAL_S * rate)
            f.seek((f.frames - count) // 2)
        audio = f.read(count, dtype="float32", always_2d=False)
    return resample(to_mono(audio), rate, SAMPLE_RATE)


# --- fluidsynth instruments: General MIDI programs (0-based) and note ranges ---
INSTRUMENTS = {
    "Piano": ((0, 1, 2, 4), (40, 84)),
    "Guitar": ((24, 25, 26, 27), (40, 76)),
    "Violin, fiddle": ((40, 110), (55, 88)),
    "Flute": ((73, 72), (60, 96)),
    "Drum kit": ((-1,), (35, 59)),  # -1: the percussion channel (MIDI channel 10), one drum per key
    "Organ": ((16, 17, 19), (36, 84)),  # drawbar, percussive, church
    "Trumpet": ((56, 59), (55, 82)),  # open and muted
    "Saxophone": ((64, 65, 66), (49, 80)),  # soprano, alto, tenor
    "Harp": ((46,), (36, 96)),
}


def _midi_file(program: int, notes: list[tuple[int, int, int, int]], ticks_per_beat: int = 480) -> bytes:
    """A one-track Standard MIDI File: (start_tick, duration_ticks, key, velocity) notes at 120 bpm."""
    channel = 9 if program < 0 else 0
    events: list[tuple[int, bytes]] = []
    for start, dur, key, vel in notes:
        events.append((start, bytes([0x90 | channel, key, vel])))
        events.append((start + dur, bytes([0x80 | channel, key, 0])))
    events.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))
    track = bytearray() if program < 0 else bytearray(b"\x00" + bytes([0xC0 | channel, program]))
    now = 0
    for tick, msg in events:
        delta, now = tick - now, tick
        var = bytearray([delta & 0x7F])
        while delta > 0x7F:
            delta >>= 7
            var.insert(0, (delta & 0x7F) | 0x80)
        track += var + msg
    track += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat) + b"MTrk" + struct.pack(">I", len(track)) + track


def render_instrument(name: str, rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, dict]:
    """Random notes (a melody, sometimes chords) on one GM instrument, rendered by fluidsynth."""
    programs, (low, high) = INSTRUMENTS[name]
    program = int(rng.choice(programs))
    ticks_per_s = 960  # 480 ticks per beat at 120 bpm
    notes, t = [], 0
    while t < seconds * ticks_per_s:
        dur = int(rng.choice([120, 240, 480, 960]))
        for key in rng.choice(np.arange(low, high), size=int(rng.choice([1, 1, 2, 3])), replace=False):
            notes.append((t, dur, int(key), int(rng.integers(60, 120))))
        t += dur
    with tempfile.TemporaryDirectory(prefix="mt2kd-midi-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        mid.write_bytes(_midi_file(program, notes))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SAMPLE_RATE), "-F", str(wav), "-T", "wav",
                        str(SOUNDFONT), str(mid)], check=True, capture_output=True)
        audio, rate = sf.read(wav, dtype="float32")
    return resample(to_mono(audio), rate, SAMPLE_RATE), {"gm_program": program, "notes": len(notes)}


# --- procedural sounds ---
def render_procedural(name: str, rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, dict]:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    if name == "Siren":
        style = str(rng.choice(["wail", "yelp", "hi-lo"]))
        low, high = rng.uniform(500, 800), rng.uniform(1200, 1800)
        rate_hz = {"wail": rng.uniform(0.15, 0.4), "yelp": rng.uniform(2, 4), "hi-lo": rng.uniform(0.7, 1.2)}[style]
        sweep = (np.sin(2 * np.pi * rate_hz * t) + 1) / 2 if style != "hi-lo" else (np.sin(2 * np.pi * rate_hz * t) > 0)
        freq = low + (high - low) * sweep
        audio = np.sign(np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE)) * 0.3 + np.sin(2 * np.pi * np.cumsum(freq) / SAMPLE_RATE)
        params = {"style": style}
    elif name == "Alarm":
        freq = rng.uniform(600, 3500)
        on_s, off_s = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)
        gate = (t % (on_s + off_s)) < on_s
        wave = str(rng.choice(["square", "sine", "buzz"]))
        carrier = np.sin(2 * np.pi * freq * t)
        if wave == "square":
            carrier = np.sign(carrier)
        elif wave == "buzz":
            carrier = np.sign(np.sin(2 * np.pi * rng.uniform(80, 200) * t)) * (0.5 + 0.5 * carrier)
        audio = carrier * gate
        params = {"freq_hz": round(float(freq), 1), "wave": wave}
    elif name == "Sine wave":
        freq = float(np.exp(rng.uniform(np.log(100), np.log(6000))))
        audio = np.sin(2 * np.pi * freq * t)
        params = {"freq_hz": round(freq, 1)}
    elif name in ("White noise", "Pink noise"):
        audio = coloured_noise(n, "white" if name == "White noise" else "pink", rng)
        params = {}
    else:
        raise ValueError(f"no procedural generator for {name!r}")
    fade = min(n // 4, SAMPLE_RATE // 50)  # 20 ms fades: no clicks that would read as transients
    env = np.ones(n)
    env[:fade], env[n - fade:] = np.linspace(0, 1, fade), np.linspace(1, 0, fade)
    return (audio * env).astype(np.float32), params
